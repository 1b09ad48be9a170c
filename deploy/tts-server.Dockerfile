# The chatterbox-tts container: tts-server on LibTorch. Build the jars on the host first (CUDA natives for a GPU):
#   ./mvnw -B -DskipTests -Pcuda -pl tts-server -am package
#   docker build -f deploy/tts-server.Dockerfile -t localai/chatterbox-tts .
# The model (about 3 GB), the JavaCPP natives and the voice library live in the /data volume.
FROM eclipse-temurin:25-jre
WORKDIR /app
COPY tts-server/target/lib/ /app/lib/
COPY tts-server/target/tts-server.jar /app/tts-server.jar
ENV TTS_HOST=0.0.0.0 \
    TTS_PORT=8006 \
    TTS_DEVICE=auto \
    TTS_VOICES_DIR=/data/voices \
    HF_HOME=/data/huggingface
VOLUME /data
EXPOSE 8006
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", \
            "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dorg.bytedeco.javacpp.maxBytes=0", \
            "-Dorg.bytedeco.javacpp.cachedir=/data/javacpp", "-jar", "/app/tts-server.jar"]
