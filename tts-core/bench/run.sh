#!/usr/bin/env bash
# Runs one of the engine benchmark programs (tts-core/src/test/java/dev/localai/tts/core/bench) on JDK 21+:
#   tts-core/bench/run.sh EngineBench --levels 1,4,16
#   tts-core/bench/run.sh SoakBench --requests 1000
#   tts-core/bench/run.sh T3DecodeBench --profile turbo --sessions 1,4,16
# It compiles tts-core's main and test classes (no tests run), then starts the program with the same native flags
# as the test JVMs. Set JAVA to pick the JVM; by default JAVA_HOME's if it is 21+, else the newest under /usr/lib/jvm.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:?usage: tts-core/bench/run.sh EngineBench|SoakBench|T3DecodeBench [--option value ...]}"
shift
cd "$here"
suffix="${BUILD_SUFFIX:-}"
target="tts-core/target${suffix}"
./mvnw -B -q -pl tts-core -am test-compile dependency:build-classpath -Dbuild.suffix="$suffix" \
    -Dmdep.outputFile="$PWD/$target/bench-classpath.txt" -Dmdep.includeScope=test >&2
if [[ -z "${JAVA:-}" ]]; then
    if [[ -n "${JAVA_HOME:-}" ]] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
        JAVA="$JAVA_HOME/bin/java"
    else
        JAVA="$(ls -d /usr/lib/jvm/*/bin/java | sort -V | tail -1)"
        for j in /usr/lib/jvm/*/bin/java; do
            if "$j" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then JAVA="$j"; fi
        done
    fi
fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
exec "$JAVA" -Xss4m --enable-native-access=ALL-UNNAMED -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
    -Dorg.bytedeco.javacpp.maxBytes=0 \
    -cp "$target/classes:$target/test-classes:$(cat "$target/bench-classpath.txt")" \
    "dev.localai.tts.core.bench.$main" "$@"
