#!/usr/bin/env bash
# The GPU checks of tts-cuda, for a machine with an NVIDIA GPU, its driver and the cuBLAS/cuDNN libraries:
#   tts-cuda/bench/gpu-check.sh [device spec] [decode steps]
# 1. the tts-cuda tests with the GPU natives of LibTorch (-Pcuda; downloads them once, about 460 MB),
# 2. CudaDecodeBench: Turbo-size T3 decode throughput at 1/4/16 sessions, batched and not, with VRAM figures.
# A GPU machine without network access (or a JDK): tts-cuda/bench/offline/bundle.sh builds the same checks, and the
# engine benchmark on CUDA, as chunks to carry there (docs/performance.md, "GPU").
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
./mvnw -B -q -Pcuda -pl tts-cuda -am test -Dtest='Cuda*Test' -Dsurefire.failIfNoSpecifiedTests=false
./mvnw -B -q -Pcuda -pl tts-cuda dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/tts-cuda/target/bench-classpath.txt" >&2
TTS_ROOT="$here"
. "$TTS_ROOT/bin/jvm-env.sh"
if [[ -z "${JAVA:-}" ]]; then
    jdk="$(tts_find_jdk)" || { echo "gpu-check: needs a JDK 21 or newer (set JAVA_HOME or TTS_JAVA_HOME)" >&2; exit 1; }
    JAVA="$jdk/bin/java"
fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
# shellcheck disable=SC2046 # the flags contain no spaces
"$JAVA" $(tts_jvm_flags "$(dirname "$(dirname "$JAVA")")") \
    -cp "tts-cuda/target/classes:tts-cuda/target/test-classes:$(cat tts-cuda/target/bench-classpath.txt)" \
    dev.localai.tts.cuda.bench.CudaDecodeBench "$@"
