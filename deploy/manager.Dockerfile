# The manager daemon, with the docker CLI it drives the model containers with (through the host's socket).
#   ./mvnw -B -DskipTests -pl manager -am package
#   docker build -f deploy/manager.Dockerfile -t localai/manager .
FROM eclipse-temurin:25-jre
RUN apt-get update && apt-get install -y --no-install-recommends docker.io && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY manager/target/lib/ /app/lib/
COPY manager/target/manager.jar /app/manager.jar
EXPOSE 8000
ENTRYPOINT ["java", "-jar", "/app/manager.jar"]
CMD ["--config", "/etc/localai/models.json", "--state-dir", "/var/lib/localai"]
