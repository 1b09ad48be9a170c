#!/usr/bin/env bash
# Builds what tts-cuda/bench/gpu-check.sh needs for a GPU machine that has no network and takes a small transfer
# (this workplace's device machine: CUDA 13 libraries in its PyTorch venv, no JDK, 64 MiB per call):
#   tts-cuda/bench/offline/bundle.sh [GPU architecture (90: H100, H200)]
# Writes tts-cuda/target/offline/: p0, p1, ... (about 200 MB in 60 MB chunks: a jlinked JRE 25, LibTorch's GPU
# natives with only that architecture's machine code, the dependency jars, the JUnit console) and app.tar (this
# checkout's classes, 1.2 MB). Then on the machine, one call per chunk, the last one running the checks:
#   carry tts-cuda/target/offline/pN + tts-cuda/bench/offline:   bash tts-cuda/bench/offline/chunk.sh pN
#   last call, also carrying tts-cuda/target/offline/app.tar:    bash tts-cuda/bench/offline/run.sh
# Only the chunks need sending again after a code change (the machine keeps them while it is held), so rebuilding
# app.tar is enough: tts-cuda/bench/offline/bundle.sh --app-only.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
app_only=false
[[ "${1:-}" == "--app-only" ]] && { app_only=true; shift; }
arch="${1:-90}"
out="tts-cuda/target/offline"
work="$out/work"
TTS_ROOT="$root"
. bin/jvm-env.sh
jdk="$(tts_find_jdk)" || { echo "bundle: needs a JDK 21 or newer" >&2; exit 1; }
mkdir -p "$work"
./mvnw -B -q -pl tts-cuda -am package dependency:build-classpath -DskipTests -Dmdep.includeScope=test \
    -Dmdep.outputFile="$root/$work/cp.txt" >&2

# the application: this checkout's classes, and a main that writes the random Turbo checkpoint beside the tests
rm -rf "$work/app" && mkdir -p "$work/app/extra"
cp tts-core/target/tts-core-*-SNAPSHOT.jar "$work/app/tts-core.jar"
cp tts-core/target/tts-core-*-SNAPSHOT-tests.jar "$work/app/tts-core-tests.jar"
cp -r tts-cuda/target/classes "$work/app/cuda-classes"
cp -r tts-cuda/target/test-classes "$work/app/cuda-test-classes"
cat > "$work/app/extra/GenRandom.java" <<'JAVA'
public class GenRandom {
    public static void main(String[] a) throws Exception {
        System.out.println(dev.localai.tts.core.engine.RandomTurbo.resolve("random-turbo"));
    }
}
JAVA
"$jdk/bin/javac" -d "$work/app/extra" -cp "$work/app/tts-core.jar" "$work/app/extra/GenRandom.java"
rm "$work/app/extra/GenRandom.java"
tar cf "$out/app.tar" -C "$work/app" .
echo "app.tar: $(du -h "$out/app.tar" | cut -f1)"
$app_only && exit 0

# the static part
cp_jars="$(tr ':' '\n' < "$work/cp.txt")"
torch_jar="$(grep -m1 '/org/bytedeco/pytorch/.*/pytorch-[0-9.]*-[0-9.]*\.jar$' <<< "$cp_jars")"
torch_version="$(basename "$(dirname "$torch_jar")")"
junit_version="$(basename "$(dirname "$(grep -m1 'junit-jupiter-api' <<< "$cp_jars")")")"
./mvnw -B -q dependency:get -Dartifact="org.bytedeco:pytorch:$torch_version:jar:linux-x86_64-gpu" >&2
./mvnw -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version" >&2
repo="$(dirname "$(dirname "$(dirname "$(dirname "$(dirname "$torch_jar")")")")")"
gpu_jar="$repo/org/bytedeco/pytorch/$torch_version/pytorch-$torch_version-linux-x86_64-gpu.jar"
console="$repo/org/junit/platform/junit-platform-console-standalone/$junit_version/junit-platform-console-standalone-$junit_version.jar"
static="$work/static"
rm -rf "$static" "$work/natives" && mkdir -p "$static/lib" "$work/natives"
# the dependency jars, less the CPU natives of LibTorch (never beside the GPU ones), FFmpeg's natives (no encoding
# here), JUnit (the console carries its own) and this project's jars (in app.tar)
grep -v -e '-linux-x86_64\.jar$' -e '/org/junit/' -e '/opentest4j/' -e '/apiguardian/' -e '/jspecify/' \
    -e '/dev/localai/' <<< "$cp_jars" | xargs -I{} cp {} "$static/lib/"
for keep in javacpp openblas cuda; do
    grep -e "/$keep-[^/]*-linux-x86_64\.jar$" <<< "$cp_jars" | xargs -r -I{} cp {} "$static/lib/"
done
cp "$console" "$static/lib/junit-console.jar"
(cd "$work/natives" && unzip -q "$gpu_jar")
so="$(find "$work/natives" -name libtorch_cuda.so)"
python3 tts-cuda/bench/offline/fatbin_keep_arch.py "$so" "$arch" "$so.kept"
mv "$so.kept" "$so"
(cd "$work/natives" && zip -q -0 -r -X "$root/$static/lib/pytorch-gpu-sm$arch.jar" .)
"$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.unsupported,java.desktop,java.net.http,java.naming,java.sql,java.xml,jdk.management,java.instrument,jdk.crypto.ec,java.scripting,jdk.zipfs \
    --strip-debug --no-header-files --no-man-pages --output "$static/jre"
rm -f "$out"/p?
tar cf - -C "$static" . | xz -6 -T0 | split -b 60000000 -d -a 1 - "$out/p"
rm -rf "$work/natives"
ls -la "$out"
