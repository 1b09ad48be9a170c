#!/usr/bin/env bash
# The GPU checks of tts-cuda, for a machine with an NVIDIA GPU, its driver and the cuBLAS/cuDNN libraries:
#   tts-cuda/bench/gpu-check.sh [device spec] [decode steps]
# 1. the tts-cuda tests with the GPU natives of LibTorch (-Pcuda; downloads them once, about 460 MB),
# 2. CudaDecodeBench: Turbo-size T3 decode throughput at 1/4/16 sessions, batched and not, with VRAM figures.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
./mvnw -B -q -Pcuda -pl tts-cuda -am test -Dtest='Cuda*Test' -Dsurefire.failIfNoSpecifiedTests=false
./mvnw -B -q -Pcuda -pl tts-cuda dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/tts-cuda/target/bench-classpath.txt" >&2
JAVA="${JAVA:-$(for j in "${JAVA_HOME:-/nonexistent}/bin/java" /usr/lib/jvm/*/bin/java; do
    [[ -x "$j" ]] && "$j" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])' && echo "$j"; done | tail -1)}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
"$JAVA" -Xss4m --enable-native-access=ALL-UNNAMED -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
    -Dorg.bytedeco.javacpp.maxBytes=0 \
    -cp "tts-cuda/target/classes:tts-cuda/target/test-classes:$(cat tts-cuda/target/bench-classpath.txt)" \
    dev.localai.tts.cuda.bench.CudaDecodeBench "$@"
