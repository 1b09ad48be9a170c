# shellcheck shell=sh
# Sourced (POSIX sh) by ./tts, examples/run, .ci/run and the bench scripts: finds a JDK 21+ and holds the JVM
# flags, so there is one place for both. The flags themselves are in bin/jvm.options (also read by the test JVMs).
#
#   TTS_ROOT="$(cd "$(dirname "$0")" && pwd)"; . "$TTS_ROOT/bin/jvm-env.sh"
#   jdk="$(tts_find_jdk)" || { echo "needs a JDK 21 or newer (set JAVA_HOME or TTS_JAVA_HOME)" >&2; exit 1; }
#   exec "$jdk/bin/java" $(tts_jvm_flags "$jdk") -jar some.jar
#
# TTS_JAVA_HOME, then JAVA_HOME, then the usual install places are tried; the first Java 21+ wins.

: "${TTS_ROOT:?set TTS_ROOT to the repository root before sourcing bin/jvm-env.sh}"
TTS_MIN_JAVA=21

# glibc's malloc gives every thread that allocates its own arena; a thread other than the main one keeps its memory in
# 64 MiB heaps that are unmapped as soon as they empty, so LibTorch's large tensors (HiFT's 8 MB activations) fault
# their pages in again on every operation. The engine runs the models on its own threads: one arena keeps that memory
# mapped (measured: HiFT 3.5x faster off the main thread, engine RTF 1.31 -> 0.85 on a 2-core AMD EPYC;
# docs/performance.md, "Eighth round"). The user's own setting wins.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"

# Transparent huge pages for the models' memory, where the kernel gives them only to memory marked for them (the usual
# "madvise" mode): LibTorch marks its tensors of 2 MiB or more, glibc (2.35+) its heap. A fresh process faults its
# model in once; with 4 KiB pages that was 372 000 faults and 5.9 s of a 2-core VM's model load, with these (and the
# weights read into huge pages) 34 000-38 000 and 2.5-3.3 s, and `tts speak` of 8.9 s of audio took 12.7-14.9 s
# against 10.4-10.9 (docs/performance.md, "Eighteenth round"; HugePages in tts-core). The user's own settings win:
# THP_MEM_ALLOC_ENABLE=0, or glibc.malloc.hugetlb=0 in GLIBC_TUNABLES.
export THP_MEM_ALLOC_ENABLE="${THP_MEM_ALLOC_ENABLE:-1}"
case ":${GLIBC_TUNABLES:-}:" in
  *:glibc.malloc.hugetlb=*) ;;
  *) export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1" ;;
esac

# The feature version of the java in JDK home $1 (8 for 1.8), or nothing when it does not run: from the JDK's
# `release` file where it has one (every JDK since 9), else from the JVM itself. Starting a JVM to ask took about
# 0.15 s, and a launch asks up to three times and once per older JDK found on the way (0.9 s of `./tts --version`).
tts_java_major() {
  _v=""
  if [ -x "$1/bin/java" ] && [ -f "$1/release" ]; then
    _v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release" 2>/dev/null | head -n 1)
  fi
  if [ -z "$_v" ]; then
    _v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')
  fi
  case "$_v" in
    1.*) _v="${_v#1.}" ;;
  esac
  echo "${_v%%.*}"
}

# Prints the home of the first JDK 21+ found; with the argument "javac" only full JDKs count. Returns 1 if none.
tts_find_jdk() {
  for _j in "${TTS_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/* "$HOME"/.sdkman/candidates/java/* /opt/java/* \
            /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$_j" ] && [ -x "$_j/bin/java" ] || continue
    [ "${1:-}" != javac ] || [ -x "$_j/bin/javac" ] || continue
    _m=$(tts_java_major "$_j")
    if [ "${_m:-0}" -ge "$TTS_MIN_JAVA" ] 2>/dev/null; then
      echo "$_j"
      return 0
    fi
  done
  return 1
}

# Prints the JVM flags for the JDK at $1: those of bin/jvm.options, then the version-dependent ones (space-separated;
# none contains a space, so callers may split on spaces).
tts_jvm_flags() {
  _f=$(sed -e 's/#.*//' "$TTS_ROOT/bin/jvm.options" | tr -s ' \t\n' '   ' | sed -e 's/^ *//' -e 's/ *$//')
  # Java 23+ warns when JavaCPP and our memory-mapped checkpoints use sun.misc.Unsafe's memory methods
  if [ "$(tts_java_major "$1")" -ge 23 ] 2>/dev/null; then
    _f="$_f --sun-misc-unsafe-memory-access=allow"
  fi
  echo "$_f"
}

# Prints the JVM flags that give launcher $2 (tts, tts-server, manager, examples), running jar $3 on the JDK at $1, a
# class-data archive: the JVM maps the classes an earlier run loaded (LibTorch's bindings are thousands of classes and
# methods) instead of parsing and linking them again. Measured on a 2-core AMD EPYC, `./tts speak` by turns: 0.2-2.1 s
# sooner in twelve pairs of twelve (docs/performance.md, "Sixteenth round"). On Java 25 and later it is an AOT cache
# instead (JEP 483, 514, 515: the classes loaded and linked, and the methods' profiles, so the JIT compiles the hot
# ones sooner): `./tts speak` of 5 s of audio 8.7-9.7 s against 9.7-11.4 with the class-data archive, six pairs of
# six ("Nineteenth round"). The archives live in $XDG_CACHE_HOME/localai-tts/jvm (else ~/.cache), 30-50 MB each,
# named by launcher, JDK path and jar path:
#  - the newest one written after both the jar and the JDK's lib/modules is mapped, read only
#    (-XX:SharedArchiveFile, -XX:AOTCache); a run that finds it unusable just runs without it;
#  - with none, this run records one of its own at exit (a name of its own: two runs never write one file, which the
#    JVM would truncate under the other as root): a class-data archive (-XX:ArchiveClassesAtExit), a second or so
#    more for that run; on Java 25, what an AOT cache needs (-XX:AOTMode=record: NAME.aot.config), which the next
#    start assembles into the cache before it runs (-XX:AOTMode=create, about two seconds on a 2-core AMD EPYC)
#    rather than a child JVM at this run's exit (-XX:AOTCacheOutput), which printed six lines on stderr, its whole
#    command line among them, that no flag turns off; the recording run's own notes on it are off
#    (-XX:-DisplayVMOutput, which also keeps that run's VM warnings off the terminal; unified logging is unchanged);
#  - older archives of that launcher and JDK are deleted, and so is one whose run did no real work: the writing run
#    is told its archive's path (-Dlocalai.tts.jvmArchive), and the CLI, the server and the manager mark it
#    (NAME.discard) when it only printed help or a version, or failed; such an archive holds few of the classes a real
#    run needs, and every later start would map it (a first `./tts speak --help` left `speak`'s without the model's
#    classes). A marked recording is deleted unassembled.
# Nothing is printed where TTS_JVM_CDS=off, where the JDK has no base archive of its own (lib/server/classes.jsa: a
# HotSpot JDK's, which these extend; OpenJ9 takes other flags), where that directory cannot be made or written, or
# where its path has a space (callers split the flags on spaces). The JVM's notes on archives are kept off stderr.
tts_cds_flags() {
  case "${TTS_JVM_CDS:-on}" in
    off|0|false|no) return 0 ;;
  esac
  [ -f "$1/lib/server/classes.jsa" ] || return 0
  _base="${XDG_CACHE_HOME:-}"
  if [ -z "$_base" ]; then
    [ -n "${HOME:-}" ] || return 0
    _base="$HOME/.cache"
  fi
  _dir="$_base/localai-tts/jvm"
  case "$_dir" in
    *" "*) return 0 ;;
  esac
  mkdir -p "$_dir" 2>/dev/null && [ -w "$_dir" ] || return 0
  # named by the JDK and the jar's path too: the JVM mapped another checkout's newer archive over this one's jar and
  # ran that checkout's classes (a second clone at an older commit served the newer server's code)
  _prefix="$_dir/$2-$(printf '%s|%s' "$1" "${3:-}" | cksum | cut -d ' ' -f 1)"
  # the JVM's notes on archives are turned off on both outputs: an -Xlog option that names no output means stdout
  # only, and bin/jvm.options sends every warning to stderr, where Java 25 said four lines on adapters its AOT cache
  # could not link at every start that mapped one (Java 24 and older know no aot tag and fail to start on one)
  _ext=jsa
  _quiet="-Xlog:cds=off -Xlog:cds+dynamic=off -Xlog:cds=off:stderr -Xlog:cds+dynamic=off:stderr"
  if [ "$(tts_java_major "$1")" -ge 25 ] 2>/dev/null; then
    _ext=aot
    _quiet="-Xlog:aot*=off -Xlog:cds*=off -Xlog:aot*=off:stderr -Xlog:cds*=off:stderr"
    rm -f "$_prefix"-*.jsa # an older launcher's, for this JDK
  fi
  _use=""
  # newest first (the names have no spaces); an archive older than the jar or the JDK is of no use any more, nor one
  # its run marked to be discarded (NAME.discard: a run that only printed help or failed, whose archive holds little)
  for _a in $(ls -t "$_prefix"-*."$_ext" 2>/dev/null); do
    if [ -z "$_use" ] && [ "$_a" -nt "${3:-}" ] && [ "$_a" -nt "$1/lib/modules" ] && [ ! -e "$_a.discard" ]; then
      _use="$_a"
    else
      rm -f "$_a" "$_a.discard"
    fi
  done
  if [ -z "$_use" ]; then
    # marks whose run wrote no archive (it died first), nor a recording of one
    for _m in "$_prefix"-*."$_ext".discard; do
      if [ -e "$_m" ] && [ ! -e "${_m%.discard}" ] && [ ! -e "${_m%.discard}.config" ]; then rm -f "$_m"; fi
    done
  fi
  if [ -z "$_use" ] && [ "$_ext" = aot ]; then
    _use=$(tts_aot_assemble "$1" "$_prefix" "${3:-}")
  fi
  # a run that writes one is told where (the CLI, the server and the manager mark it to be discarded when the run did
  # no real work)
  _own="$_prefix-$$.$_ext"
  if [ -n "$_use" ] && [ "$_ext" = aot ]; then
    echo "-XX:AOTCache=$_use $_quiet"
  elif [ "$_ext" = aot ]; then
    echo "-XX:AOTMode=record -XX:AOTConfiguration=$_own.config -XX:+UnlockDiagnosticVMOptions -XX:-DisplayVMOutput" \
      "-Dlocalai.tts.jvmArchive=$_own $_quiet"
  elif [ -n "$_use" ]; then
    echo "-XX:SharedArchiveFile=$_use $_quiet"
  else
    echo "-XX:ArchiveClassesAtExit=$_own -Dlocalai.tts.jvmArchive=$_own $_quiet"
  fi
}

# tts_aot_assemble JDK PREFIX JAR: assembles the AOT cache PREFIX-PID.aot from the newest recording PREFIX-PID.aot.config
# that an earlier run left (-XX:AOTMode=record) and prints its path; prints nothing when there is none to assemble or
# the JVM fails. A recording whose run is still alive (PID: the launcher exec'd its java) is left to it; one that is
# marked (NAME.aot.discard: its run did no real work), older than the jar or the JDK, or superseded is deleted. The
# JVM writes a name of this start's own and it is renamed into place, so two starts at once never write one file.
tts_aot_assemble() {
  _made=""
  # what a start that died while it assembled left
  for _p in "$2"-*.aot.part-*; do
    if [ -e "$_p" ] && ! kill -0 "${_p##*-}" 2>/dev/null; then rm -f "$_p"; fi
  done
  for _c in $(ls -t "$2"-*.aot.config 2>/dev/null); do
    _a="${_c%.config}"
    _pid="${_a##*-}"
    _pid="${_pid%.aot}"
    if [ -e "$_a.discard" ] || [ ! "$_c" -nt "${3:-}" ] || [ ! "$_c" -nt "$1/lib/modules" ]; then
      rm -f "$_c" "$_a.discard"
    elif kill -0 "$_pid" 2>/dev/null; then
      continue # still running: it writes its recording at exit
    elif [ -z "$_made" ]; then
      # shellcheck disable=SC2046 # the flags contain no spaces
      if "$1/bin/java" $(tts_jvm_flags "$1") -XX:AOTMode=create -XX:AOTConfiguration="$_c" \
           -XX:AOTCache="$_a.part-$$" -cp "${3:-}" </dev/null >/dev/null 2>&1 && [ -s "$_a.part-$$" ] \
         && mv -f "$_a.part-$$" "$_a"; then
        _made="$_a"
      fi
      rm -f "$_c" "$_a.part-$$"
    else
      rm -f "$_c"
    fi
  done
  [ -z "$_made" ] || echo "$_made"
}

# tts_build_if_stale WHO MODULE JAR [PATH...]: builds MODULE (and what it needs) with Maven's package phase, never
# install, when JAR is missing or older than a main source file or pom.xml under the PATHs (relative to the
# repository root; default: the whole tree). JAR is an absolute path.
# Maven's output goes to stderr; WHO names the caller in the message.
tts_build_if_stale() {
  _who="$1" _module="$2" _jar="$3"
  shift 3
  [ $# -gt 0 ] || set -- .
  _stale=""
  if [ -f "$_jar" ]; then
    _stale=$(cd "$TTS_ROOT" && find "$@" \( -path '*/src/main/*' -o -path '*/src/launcher/*' -o -name pom.xml \) \
        -newer "$_jar" -not -path '*/target*' -print -quit 2>/dev/null)
  fi
  if [ ! -f "$_jar" ] || [ -n "$_stale" ]; then
    echo "$_who: building $_module (first run or sources changed)..." >&2
    (cd "$TTS_ROOT" && ./mvnw -q -B -DskipTests -pl "$_module" -am package) >&2
    # Maven leaves a module's jar as it was when only a module it depends on changed (the jar's manifest names their
    # jars): mark it fresh, or every later run would find the same newer source and build again
    touch "$_jar"
  fi
}
