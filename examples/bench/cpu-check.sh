#!/usr/bin/env bash
# The CPU check of issue 13, for any x86-64 Linux machine (a Zen 4, an Intel AMX Xeon, a gaming PC):
#   examples/bench/cpu-check.sh [output directory]
# Runs `tts bench engine --model random-turbo` with the engine's defaults (random weights at the real Turbo sizes,
# written once to the cache, about 3 GB) REPEATS times (default 3), natively and then with LibTorch and oneDNN capped
# at AVX2 (an AVX2-only CPU's kernels, emulated), one after the other, never beside each other or another benchmark.
# Each run's JSON goes to the output directory (default target/cpu-check-<UTC time>); the Markdown table at the end,
# one row per run with the CPU named, after a line naming the build and the time, is what docs/performance.md records, and its last column lists the targets
# (rtf <= 1.0, first_audio_ms <= 1000, t3_over_floor <= 1.3) the run missed. CAPS=native (or avx2) runs one of the two;
# CAPS="native avx2 scalar" adds a CPU without AVX (LibTorch's default kernels, oneDNN at SSE4.1 and OpenBLAS's
# Nehalem kernels: the Celeron, Pentium Silver or Atom of a small home server, emulated), CAPS=avx one with AVX but
# not AVX2 (oneDNN at AVX, OpenBLAS's Sandy Bridge kernels: the Xeon E5 v1/v2 of many home labs), and on a CPU with
# AVX512-BF16 CAPS=avx512 one with AVX-512 and VNNI but not BF16 (oneDNN at AVX512_CORE_VNNI, so the flow is fp32: the
# Xeon Scalable of 2nd and 3rd generation, Ice Lake and Rocket Lake; its AVX-512 units are the host's, so the figures
# say which kernels such a CPU runs more than how fast they run there).
# The first run on a machine also measures the CPU's kernels once (probe_s, some seconds).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
out="${1:-target/cpu-check-$(date -u +%Y%m%dT%H%M%SZ)}"
repeats="${REPEATS:-3}"
caps="${CAPS:-native avx2}"
mkdir -p "$out"
# which build measured: docs/performance.md names it beside every row (a tree with changes says so)
build="$(git rev-parse --short HEAD 2>/dev/null || echo "unknown build")"
if [[ "$build" != "unknown build" ]] && ! git diff --quiet HEAD 2>/dev/null; then
    build="$build with uncommitted changes"
fi
started="$(date -u '+%Y-%m-%d %H:%M')"
echo "cpu-check: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs;" \
    "build $build; results in $out" >&2
table=""
for c in $caps; do
    case "$c" in
        native) vars=() ;;
        avx2) vars=(ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2) ;;
        avx) vars=(ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX OPENBLAS_CORETYPE=SANDYBRIDGE) ;;
        scalar) vars=(ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 OPENBLAS_CORETYPE=NEHALEM) ;;
        avx512) vars=(ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI) ;;
        *) echo "cpu-check: CAPS takes native, avx2, avx, avx512 and scalar, not $c" >&2; exit 2 ;;
    esac
    echo "cpu-check: $c ($repeats repeats)..." >&2
    env ${vars[@]+"${vars[@]}"} ./tts bench engine --model random-turbo --repeats "$repeats" --json --markdown > "$out/$c.txt"
    head -n 1 "$out/$c.txt" > "$out/$c.json"
    if [[ -z "$table" ]]; then
        table="$(sed -n 2,3p "$out/$c.txt")"
    fi
    table="$table"$'\n'"$(sed -n 4p "$out/$c.txt")"
    rm "$out/$c.txt"
done
{
    echo "cpu-check of build $build, $started-$(date -u +%H:%M) UTC, REPEATS=$repeats:"
    echo
    printf '%s\n' "$table"
} | tee "$out/table.md"
