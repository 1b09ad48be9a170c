#!/usr/bin/env bash
# Runs one of the engine benchmark programs (tts-core/src/test/java/dev/localai/tts/core/bench) on JDK 21+:
#   tts-core/bench/run.sh EngineBench --levels 1,4,16
#   tts-core/bench/run.sh SoakBench --requests 1000
#   tts-core/bench/run.sh T3DecodeBench --profile turbo --sessions 1,4,16
#   tts-core/bench/run.sh dev.localai.tts.core.model.t3.T3StepBreakdown --dtype int8   (a fully qualified name)
# It compiles tts-core's main and test classes (no tests run), then starts the program with the same native flags
# as the test JVMs (bin/jvm.options). Set JAVA to pick the JVM; by default the JDK 21+ that bin/jvm-env.sh finds.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:?usage: tts-core/bench/run.sh EngineBench|SoakBench|T3DecodeBench [--option value ...]}"
shift
cd "$here"
suffix="${BUILD_SUFFIX:-}"
target="tts-core/target${suffix}"
./mvnw -B -q -pl tts-core -am test-compile dependency:build-classpath -Dbuild.suffix="$suffix" \
    -Dmdep.outputFile="$PWD/$target/bench-classpath.txt" -Dmdep.includeScope=test >&2
TTS_ROOT="$here"
. "$TTS_ROOT/bin/jvm-env.sh"
if [[ -z "${JAVA:-}" ]]; then
    jdk="$(tts_find_jdk)" || { echo "bench: needs a JDK 21 or newer (set JAVA_HOME or TTS_JAVA_HOME)" >&2; exit 1; }
    JAVA="$jdk/bin/java"
fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
# shellcheck disable=SC2046 # the flags contain no spaces
exec "$JAVA" $(tts_jvm_flags "$(dirname "$(dirname "$JAVA")")") \
    -cp "$target/classes:$target/test-classes:$(cat "$target/bench-classpath.txt")" \
    "$([[ "$main" == *.* ]] && echo "$main" || echo "dev.localai.tts.core.bench.$main")" "$@"
