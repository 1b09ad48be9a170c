#!/usr/bin/env bash
# On the GPU machine, once every chunk of tts-cuda/bench/offline/bundle.sh is there (chunk.sh) and app.tar is carried:
# unpacks them, then the tts-cuda tests, CudaDecodeBench (T3 decode at 1/4/16 sessions) and EngineBench on CUDA
# (RTF, aggregate at 1/4/16 concurrent requests, time to first streamed audio). Output also in $OUT/run.log.
#   bash tts-cuda/bench/offline/run.sh [tests|decode|engine ...]   (all three unless named)
set -u
B="${GPUB:-/root/gpub}"
steps=("${@:-tests decode engine}")
steps=" ${steps[*]} "
out="${OUT:-/tmp}"
log() { echo "== $(date +%T) $*"; }
main() {
if [ ! -x "$B/static/jre/bin/java" ]; then
    log "unpack"
    mkdir -p "$B/static" && cat "$B"/p? | xz -d -T0 | tar xf - -C "$B/static" || { echo "unpack failed"; return 1; }
fi
rm -rf "$B/app" && mkdir -p "$B/app" && tar xf tts-cuda/target/offline/app.tar -C "$B/app" || return 1
# the CUDA 13 libraries libtorch_cuda.so needs (cuBLAS, cuDNN, NCCL, ...): the machine's PyTorch wheels
libs=$(find /opt /usr/local/lib /usr/lib/python3* \( -name 'libcublas.so.*' -o -name 'libcudnn.so.*' \
    -o -name 'libnccl.so.*' -o -name 'libcusparse.so.*' -o -name 'libcufft.so.*' -o -name 'libcurand.so.*' \
    -o -name 'libcusolver.so.*' -o -name 'libcudart.so.*' -o -name 'libcupti.so.*' -o -name 'libcufile.so.*' \
    -o -name 'libnvJitLink.so.*' \) 2>/dev/null | grep -v -e /torch/lib/ -e cupy -e jax -e nsight -e triton \
    | xargs -r -n1 dirname | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}" OPENBLAS_NUM_THREADS=1 MALLOC_ARENA_MAX=1
java="$B/static/jre/bin/java"
cp="$B/app/cuda-classes:$B/app/cuda-test-classes:$B/app/tts-core.jar:$B/app/tts-core-tests.jar:$B/app/extra"
for j in "$B"/static/lib/*.jar; do case "$j" in *junit-console*) ;; *) cp="$cp:$j" ;; esac; done
flags="@bin/jvm.options --sun-misc-unsafe-memory-access=allow -Xmx32g"
grep -m1 'model name' /proc/cpuinfo; nproc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
gen=
if [[ "$steps" == *" engine "* ]]; then
    # the Turbo-size random checkpoint (CPU work, 2.8 GB, about a minute) is written beside the GPU work
    ( "$java" $flags -cp "$cp" GenRandom > "$out/genrandom.log" 2>&1 ) &
    gen=$!
fi
if [[ "$steps" == *" tests "* ]]; then
    log "tests"
    timeout 200 "$java" $flags -jar "$B/static/lib/junit-console.jar" execute --class-path "$cp" --disable-banner \
        --details=tree --select-package dev.localai.tts.cuda > "$out/tests.log" 2>&1
    echo "tests rc=$?"; grep -v -e "registered at" -e "frame #" "$out/tests.log" | tail -40
fi
if [[ "$steps" == *" decode "* ]]; then
    log "CudaDecodeBench"
    timeout 150 "$java" $flags -cp "$cp" dev.localai.tts.cuda.bench.CudaDecodeBench cuda 64
fi
if [[ -n "$gen" ]]; then
    log "random checkpoint"; wait "$gen"; tail -2 "$out/genrandom.log"
    log "EngineBench"
    timeout 300 "$java" $flags -cp "$cp" dev.localai.tts.core.bench.EngineBench --model random-turbo --device cuda \
        --dtype bf16 --levels 1,4,16 --rounds 2 --max-tokens 125 --ttfa 8
fi
log "done"
}
main 2>&1 | grep -v -e "registered at" -e "frame #" | tee "$out/run.log"
