# The manager daemon, with the docker CLI it drives the model containers with (through the host's socket).
#   ./mvnw -B -DskipTests -pl manager -am package
#   docker build -f deploy/manager.Dockerfile -t localai/manager .
FROM eclipse-temurin:25-jre
RUN apt-get update && apt-get install -y --no-install-recommends docker.io && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY manager/target/lib/ /app/lib/
COPY manager/target/manager.jar /app/manager.jar
EXPOSE 8000
# --listen 0.0.0.0:8000: in a container the manager must listen on every interface (its own default is 127.0.0.1),
# which it does only with API keys configured. Set MANAGER_ALLOWED_HOSTS to the names it is reached by (the gaming
# PC's, and the dashboard's when nginx passes the browser's Host), comma-separated, e.g.
#   -e MANAGER_ALLOWED_HOSTS=gaming-pc.lan,dashboard.lan
# or a request by name is refused with 403 host_not_allowed (IP addresses and localhost need nothing).
ENTRYPOINT ["java", "-jar", "/app/manager.jar"]
CMD ["--config", "/etc/localai/models.json", "--state-dir", "/var/lib/localai", "--listen", "0.0.0.0:8000"]
