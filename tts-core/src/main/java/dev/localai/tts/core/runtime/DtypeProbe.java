package dev.localai.tts.core.runtime;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Measures, once per machine, how fast each candidate weight type runs the products that dominate the engine, and
 * how far its results are from fp32 ({@link WeightTypes#fromProbe} turns the figures into a choice):
 *
 * <ul>
 *   <li><b>intra-op threads</b> (first, where LibTorch's default count differs from the logical core count and the
 *       environment does not set it): a flow block and a HiFT-sized convolution at each count
 *       ({@link IntraOpThreads}); the dtypes below are then timed at the count chosen;</li>
 *   <li><b>T3 decode step</b>: the four matrix-vector products of GPT-2 medium layers at Turbo's sizes (1024 wide,
 *       3072 fused q|k|v, 4096 MLP), over {@value #LAYERS} layers so the weights come from memory as in real decoding,
 *       each with its single-query attention over a few hundred cached positions, computed as T3 computes it in that
 *       type (on an AMX Xeon bf16 products were faster than fp32 but bf16 attention made the whole bf16 step 2x
 *       slower);</li>
 *   <li><b>flow</b>: one transformer block and one convolution of the S3Gen flow's estimator at its sizes (256
 *       channels, 8 heads of 64, feed-forward 1024, a k3 convolution 512 to 256) over {@value #FLOW_FRAMES} frames.
 *       Its attention matters most: on a Zen 4 EPYC bf16 products run 3-10x faster than fp32 ones through oneDNN,
 *       but bf16 {@code scaled_dot_product_attention} 15x slower, which made the whole bf16 flow 6.6x slower.</li>
 *   <li><b>convolution layout</b> (last, at the chosen thread count): a chain shaped like HiFT's last level (a
 *       transposed convolution 128 to 64 channels, stride 3, then two kernel-7 convolutions) over 4800 and over
 *       19200 samples (a small first block and the largest streamed block) in LibTorch's default layout and
 *       channels-last ({@link ConvLayout}).</li>
 *   <li><b>decode attention</b>: one T3 decode step's attention over its cache on LibTorch's products and on the
 *       native kernel ({@link #timeDecodeAttention}).</li>
 * </ul>
 * The candidates are timed by turns, so a drift of the machine's speed meanwhile hits all of them alike, and raced
 * ({@link InterleavedTimer#medians(List, List)}): each stops as soon as the choices it feeds are settled, so only
 * close calls spend the whole budget.
 * The figures are kept in {@code <cache>/localai-tts/dtype-probe.properties} ({@code $XDG_CACHE_HOME} or
 * {@code ~/.cache}; a file of its own for each set of kernel-dispatch caps, {@link #cacheFile()}), keyed by CPU model,
 * LibTorch version and core count: a file for another key, or one that cannot be read, is measured again and
 * replaced.
 */
public final class DtypeProbe {
    private static final Logger LOG = Logger.getLogger(DtypeProbe.class.getName());
    static final String FILE = "dtype-probe.properties";
    /** The share of the CPUs other processes may use during a probe whose figures are kept (a quarter). */
    static final double BUSY_SHARE = 0.25;
    /**
     * Part of the key: a probe with other candidates or products measures again (2: int8 added; 3: bf16 flow with
     * fp32 attention added; 4: the T3 step includes its attention, which bf16 makes several times slower on some
     * CPUs; 5: the candidates are timed by turns, so figures measured one after the other on a drifting machine are
     * measured again; 6: the intra-op thread count is measured first, and the dtypes at the count chosen; 7: the
     * flow block's fp32 products on oneDNN, {@code fp32-onednn}; 8: the convolution layout; 9: int8 on the native
     * kernel, {@code int8-native}; 10: T3's decode attention on LibTorch's products or the native kernel; 11: the
     * {@code int8-native} step is the whole block as one native call where T3 would run it so; 12: the bf16 flow
     * block attends with {@code nn.Bf16Attention} where it runs; 13: the fp32 block with {@code nn.Fp32Attention}; 14:
     * the convolution chain also at the length of the largest streamed block, where the layouts part ways; 15: the
     * streamed block in line or overlapped; 16: the candidates raced, each stopping once the choices it feeds are
     * settled, FBGEMM's int8 not timed where the native int8 kernel runs, and the streamed block's two sides in the
     * engine's proportion; 17: the key names the CPU's family/model and kernel flags, the heap settled first, the
     * convolution layouts raced).
     */
    static final int PROBE_VERSION = 17;
    static final int LAYERS = 4;
    static final long FLOW_FRAMES = 300;
    /** Wall-time budget of one candidate's timed runs, ms (they alternate with the others', see measure()). */
    static final double BUDGET_MS = 250;
    private static volatile WeightTypes.Probe cached;
    /** Seconds {@link #cached(Runnable)} spent measuring in this process; NaN while it has not measured. */
    private static volatile double measuredSeconds = Double.NaN;

    private DtypeProbe() {}

    /** This machine's figures: from memory, else from the cache file when its key matches, else measured now. */
    public static WeightTypes.Probe cached() {
        return cached(() -> { });
    }

    /**
     * As {@link #cached()}, running {@code beforeMeasuring} first when the figures have to be measured now (a pause of
     * some seconds, once per machine: the engine says so on its progress stream).
     */
    public static WeightTypes.Probe cached(Runnable beforeMeasuring) {
        WeightTypes.Probe p = cached;
        if (p == null) {
            synchronized (DtypeProbe.class) {
                p = cached;
                if (p == null) {
                    Torch.load();
                    p = timedLoadOrMeasure(cacheFile(), machineKey(), DtypeProbe::measure, beforeMeasuring);
                    cached = p;
                }
            }
        }
        return p;
    }

    /**
     * How long this process's probe took to measure, in seconds (what a first start on a machine pauses for); empty
     * when the figures came from the cache file or no engine has asked for them yet.
     */
    public static java.util.OptionalDouble measuredSeconds() {
        double s = measuredSeconds;
        return Double.isNaN(s) ? java.util.OptionalDouble.empty() : java.util.OptionalDouble.of(s);
    }

    /**
     * {@link #loadOrMeasure(Path, String, Supplier, Runnable)}, keeping how long it measured, if it did, for
     * {@link #measuredSeconds()} (the notice included: it is part of the pause).
     */
    static WeightTypes.Probe timedLoadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure,
            Runnable beforeMeasuring) {
        long[] start = {0};
        WeightTypes.Probe p = loadOrMeasure(file, key, measure, () -> {
            start[0] = System.nanoTime();
            beforeMeasuring.run();
        });
        if (start[0] != 0) {
            measuredSeconds = (System.nanoTime() - start[0]) / 1e9;
        }
        return p;
    }

    /** {@link #loadOrMeasure(Path, String, Supplier)}, running {@code beforeMeasuring} right before it measures. */
    static WeightTypes.Probe loadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure,
            Runnable beforeMeasuring) {
        return loadOrMeasure(file, key, () -> {
            beforeMeasuring.run();
            return measure.get();
        });
    }

    /**
     * The figures in {@code file} when it holds {@code key}; otherwise {@code measure}'s, written to {@code file}
     * (a write that fails is logged and ignored) and logged once.
     */
    static WeightTypes.Probe loadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure) {
        return loadOrMeasure(file, key, measure, CpuLoad::sample);
    }

    /**
     * {@link #loadOrMeasure(Path, String, Supplier)}, reading the machine's load with {@code load} before and after
     * measuring: where other processes used more than {@link #BUSY_SHARE} of the CPUs meanwhile, the figures serve this
     * process only and are not written (the next start measures again). On 2026-12-04 a probe run beside another
     * benchmark timed 2 threads at 108.7 ms against 15.4 for 1 and kept that: every later run on the quiet machine
     * used one thread of two (docs/performance.md, "Twelfth round").
     */
    static WeightTypes.Probe loadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure,
            Supplier<CpuLoad.Sample> load) {
        WeightTypes.Probe p = read(file);
        if (p != null && p.key().equals(key)) {
            return p;
        }
        CpuLoad.Sample before = load.get();
        p = measure.get();
        double others = CpuLoad.othersShare(before, load.get());
        p = new WeightTypes.Probe(key, p.figures(), p.threadMs(), p.convLayoutMs(), p.decodeAttentionMs(),
                p.streamOverlapMs());
        if (others > BUSY_SHARE) {
            LOG.warning(String.format(java.util.Locale.ROOT, "weight-type probe on %s: %s; other processes used %.0f%%"
                    + " of the CPUs while it measured, so these figures serve this run only and are measured again"
                    + " at the next start", key, p.describe(), 100 * others));
            return p;
        }
        LOG.info("weight-type probe on " + key + ": " + p.describe() + " (kept in " + file + ")");
        write(file, p);
        return p;
    }

    /** The figures in a probe file, or null when it is missing or unreadable. */
    static WeightTypes.Probe read(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
            String key = props.getProperty("key");
            String names = props.getProperty("dtypes");
            if (key == null || names == null || names.isBlank()) {
                return null;
            }
            Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
            for (String n : names.split(",")) {
                f.put(n, new WeightTypes.Figure(number(props, n + ".t3_step_ms"), number(props, n + ".flow_ms"),
                        number(props, n + ".relative_error")));
            }
            if (!f.containsKey("fp32")) {
                return null;
            }
            Map<Integer, Double> threads = new java.util.TreeMap<>();
            for (var e : timings(props, "threads", "threads.").entrySet()) {
                int c = Integer.parseInt(e.getKey());
                if (c < 1) {
                    return null;
                }
                threads.put(c, e.getValue());
            }
            return new WeightTypes.Probe(key, f, threads, timings(props, "conv_layouts", "conv_layout."),
                    timings(props, "decode_attentions", "decode_attention."),
                    timings(props, "stream_overlaps", "stream_overlap."));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "unreadable weight-type probe file " + file + ": measuring again", e);
            return null;
        }
    }

    /**
     * The timings listed under {@code list} (comma-separated names), each read from {@code prefix + name + ".ms"};
     * empty when the list is absent (a file of an older probe).
     */
    private static Map<String, Double> timings(Properties p, String list, String prefix) {
        Map<String, Double> out = new LinkedHashMap<>();
        String names = p.getProperty(list);
        if (names != null && !names.isBlank()) {
            for (String n : names.split(",")) {
                out.put(n.trim(), number(p, prefix + n.trim() + ".ms"));
            }
        }
        return out;
    }

    /** Writes {@code ms} as {@link #timings} reads it back; nothing when it is empty. */
    private static void putTimings(Properties p, String list, String prefix, Map<?, Double> ms) {
        if (!ms.isEmpty()) {
            p.setProperty(list, String.join(",", ms.keySet().stream().map(String::valueOf).toList()));
            ms.forEach((n, v) -> p.setProperty(prefix + n + ".ms", Double.toString(v)));
        }
    }

    private static double number(Properties p, String name) {
        String v = p.getProperty(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        return Double.parseDouble(v.trim());
    }

    static void write(Path file, WeightTypes.Probe p) {
        Properties props = new Properties();
        props.setProperty("key", p.key());
        props.setProperty("dtypes", String.join(",", p.figures().keySet()));
        p.figures().forEach((n, f) -> {
            props.setProperty(n + ".t3_step_ms", Double.toString(f.t3StepMs()));
            props.setProperty(n + ".flow_ms", Double.toString(f.flowMs()));
            props.setProperty(n + ".relative_error", Double.toString(f.relativeError()));
        });
        putTimings(props, "threads", "threads.", p.threadMs());
        putTimings(props, "conv_layouts", "conv_layout.", p.convLayoutMs());
        putTimings(props, "decode_attentions", "decode_attention.", p.decodeAttentionMs());
        putTimings(props, "stream_overlaps", "stream_overlap.", p.streamOverlapMs());
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), FILE, ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                props.store(w, "localai-tts weight-type probe (delete to measure again)");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "could not keep the weight-type probe in " + file + ": " + e.getMessage());
        }
    }

    /**
     * {@code <cache>/localai-tts/dtype-probe.properties}, or with kernel-dispatch caps in the environment {@code
     * dtype-probe-<hash of the caps>.properties} ({@link #fileName}).
     */
    public static Path cacheFile() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("localai-tts").resolve(fileName(dispatchCaps()));
    }

    /**
     * The probe file's name for these dispatch caps ({@link #dispatchCaps()}, pure logic): {@link #FILE} without caps,
     * else one name per set of caps, so that a run under {@code ATEN_CPU_CAPABILITY=avx2} (a test of another
     * dispatch path, or a benchmark of it) keeps its own figures instead of replacing the machine's, which the next
     * plain start would then have to measure again.
     */
    static String fileName(String caps) {
        if (caps.isEmpty()) {
            return FILE;
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(caps.getBytes(StandardCharsets.UTF_8));
        return FILE.replace(".properties", String.format("-%08x.properties", crc.getValue()));
    }

    /**
     * The environment variables that cap which kernels LibTorch, oneDNN and OpenBLAS dispatch to: capped kernels are
     * other kernels, so they are part of the machine's key (and named beside benchmark figures).
     */
    public static final java.util.List<String> DISPATCH_CAP_VARIABLES = java.util.List.of("ATEN_CPU_CAPABILITY",
            "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "OPENBLAS_CORETYPE");

    /**
     * The kernel-dispatch caps set in the environment ({@link #DISPATCH_CAP_VARIABLES}), as {@link #machineKey()}
     * appends them ({@code " | NAME=value"} each), or "" when none is.
     */
    static String dispatchCaps() {
        StringBuilder isa = new StringBuilder();
        for (String cap : dispatchCapSettings(System.getenv())) {
            isa.append(" | ").append(cap);
        }
        return isa.toString();
    }

    /**
     * The kernel-dispatch caps {@code env} sets ({@link #DISPATCH_CAP_VARIABLES} in their order, blank ones left out),
     * each as {@code NAME=value} with the value trimmed (pure logic).
     */
    static java.util.List<String> dispatchCapSettings(Map<String, String> env) {
        java.util.List<String> caps = new java.util.ArrayList<>();
        for (String v : DISPATCH_CAP_VARIABLES) {
            String val = env.get(v);
            if (val != null && !val.isBlank()) {
                caps.add(v + "=" + val.trim());
            }
        }
        return caps;
    }

    /**
     * CPU (model name, family/model and kernel flags: {@link #cpuKey()}), LibTorch version, core count and probe
     * version, e.g. {@code AMD EPYC (26/2; avx2 fma f16c avx_vnni avx512f avx512bw avx512_vnni avx512_bf16) |
     * pytorch 2.10.0-1.5.13 | 2 cores | probe 17}, plus any kernel-dispatch cap set in the
     * environment ({@code ATEN_CPU_CAPABILITY}, {@code ONEDNN_MAX_CPU_ISA}, and {@code OPENBLAS_CORETYPE}, which picks
     * OpenBLAS's fp32 kernels): capped kernels are other kernels.
     */
    public static String machineKey() {
        String version;
        try {
            version = Loader.getVersion("org.bytedeco", "pytorch");
        } catch (IOException | RuntimeException e) {
            version = null;
        }
        return cpuKey() + " | pytorch " + (version == null ? "?" : version) + " | "
                + Runtime.getRuntime().availableProcessors() + " cores | probe " + PROBE_VERSION + dispatchCaps();
    }

    /** The CPU's model name ({@code /proc/cpuinfo} on Linux, else {@code os.arch}). */
    public static String cpuModel() {
        String m = CpuIdentity.now().model();
        return m.equals("?") ? System.getProperty("os.arch") : m;
    }

    /**
     * The CPU's part of {@link #machineKey()}: {@link CpuIdentity#probeKey()} (name, family/model and kernel flags), or
     * {@code os.arch} where {@code /proc/cpuinfo} names nothing.
     */
    static String cpuKey() {
        CpuIdentity id = CpuIdentity.now();
        return id.model().equals("?") && id.family().equals("?") ? System.getProperty("os.arch") : id.probeKey();
    }

    /**
     * Times every CPU candidate now (about 4 s on a 2-core Zen 5 EPYC); the key is left empty. First the intra-op thread
     * counts ({@link IntraOpThreads#candidates}: LibTorch's default and the logical core count, when they differ), then
     * the dtypes at the count {@link IntraOpThreads#fromTimings} chooses; LibTorch's thread count is put back
     * afterwards (the engine sets the chosen one). Every candidate's products are built first and then timed by turns
     * ({@link InterleavedTimer}), so a machine whose speed drifts during the probe (a shared virtual machine) cannot
     * make a later candidate look slower than an earlier one, and raced ({@link #dtypeDecisions}): a candidate stops
     * once the choices it feeds are settled.
     */
    public static WeightTypes.Probe measure() {
        Torch.load();
        Phases phases = new Phases();
        NativeHeap.settle(); // every part timed on a heap like the engine's, not on fresh mappings
        int before = torch.get_num_threads();
        try (PointerScope scope = new PointerScope();
             dev.localai.tts.core.nn.Weights int8Owner = new dev.localai.tts.core.nn.Weights()) {
            torch.manual_seed(12345);
            Products fp32 = Products.random();
            phases.mark("random weights");
            List<Integer> counts = IntraOpThreads.candidates(Torch.defaultThreads(),
                    Runtime.getRuntime().availableProcessors(), Torch.threadsSetByEnvironment());
            Map<Integer, Double> threadMs = counts.size() > 1 ? timeThreads(fp32, counts) : Map.of();
            int chosen = IntraOpThreads.fromTimings(threadMs, Torch.defaultThreads());
            torch.set_num_threads(chosen > 0 ? chosen : Math.max(1, Torch.defaultThreads()));
            phases.mark("thread counts");
            Tensor[] ref = fp32.run();
            List<String> names = candidates();
            double[] errors = new double[names.size()];
            // per candidate: its decode step and its flow block, or null where it is not a candidate for that part
            Runnable[] steps = new Runnable[names.size()];
            Runnable[] flows = new Runnable[names.size()];
            // the weights converted once per type (bf16 and bf16 with fp32 attention share theirs)
            Map<Byte, Products> converted = new java.util.HashMap<>();
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                if (name.equals("int8") || name.equals(WeightTypes.INT8_NATIVE)) {
                    Int8Step s = int8Step(fp32, ref, int8Owner, name.equals("int8")
                            ? dev.localai.tts.core.nn.Int8Matrix.Kernel.FBGEMM
                            : dev.localai.tts.core.nn.Int8Matrix.Kernel.NATIVE);
                    steps[i] = s.step();
                    errors[i] = s.error();
                } else if (name.equals(WeightTypes.BF16_FP32_ATTENTION)) {
                    Products p = converted.computeIfAbsent(ScalarType.BFloat16.value, t -> fp32.to(ScalarType.BFloat16))
                            .withAttentionInFp32();
                    errors[i] = relativeError(p.run(), ref);
                    flows[i] = p::flow;
                } else if (name.equals(WeightTypes.FP32_ONEDNN)) {
                    Products p = fp32.withOnednnLinear();
                    errors[i] = relativeError(p.run(), ref);
                    flows[i] = p::flow;
                } else {
                    ScalarType type = WeightTypes.scalarType(name);
                    Products p = name.equals("fp32") ? fp32 : converted.computeIfAbsent(type.value, t -> fp32.to(type));
                    errors[i] = name.equals("fp32") ? 0 : relativeError(p.run(), ref);
                    steps[i] = p::decodeStep;
                    flows[i] = p::flow;
                }
            }
            phases.mark("candidates built");
            List<Runnable> ops = new java.util.ArrayList<>();
            int[] stepOp = new int[names.size()];
            int[] flowOp = new int[names.size()];
            for (int i = 0; i < names.size(); i++) {
                stepOp[i] = steps[i] != null ? add(ops, steps[i]) : -1;
                flowOp[i] = flows[i] != null ? add(ops, flows[i]) : -1;
            }
            double[] ms = new InterleavedTimer(BUDGET_MS, 64).medians(ops,
                    dtypeDecisions(names, errors, stepOp, flowOp));
            phases.mark("weight types raced");
            Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
            int k = 0;
            int fastestStep = -1;
            int fastestFlow = -1;
            for (int i = 0; i < names.size(); i++) {
                double step = steps[i] != null ? ms[k++] : Double.NaN;
                double flow = flows[i] != null ? ms[k++] : Double.NaN;
                f.put(names.get(i), new WeightTypes.Figure(step, flow, errors[i]));
                if (steps[i] != null && (fastestStep < 0 || step < f.get(names.get(fastestStep)).t3StepMs())) {
                    fastestStep = i;
                }
                if (flows[i] != null && (fastestFlow < 0 || flow < f.get(names.get(fastestFlow)).flowMs())) {
                    fastestFlow = i;
                }
            }
            Map<String, Double> overlap = fastestStep < 0 || fastestFlow < 0 ? Map.of()
                    : timeStreamOverlap(steps[fastestStep], f.get(names.get(fastestStep)).t3StepMs(),
                    flows[fastestFlow], f.get(names.get(fastestFlow)).flowMs());
            phases.mark("streamed block");
            var cl = timeConvLayouts();
            phases.mark("convolution layouts");
            var da = timeDecodeAttention();
            phases.mark("decode attention");
            LOG.fine(() -> "weight-type probe phases: " + phases);
            return new WeightTypes.Probe("", f, threadMs, cl, da, overlap);
        } finally {
            torch.set_num_threads(before);
        }
    }

    /** The probe's phases and their milliseconds, in order, for the log (FINE). */
    private static final class Phases {
        private final StringBuilder done = new StringBuilder();
        private long since = System.nanoTime();

        void mark(String phase) {
            long now = System.nanoTime();
            done.append(done.isEmpty() ? "" : ", ").append(phase).append(' ').append((now - since) / 1_000_000)
                    .append(" ms");
            since = now;
        }

        @Override
        public String toString() {
            return done.toString();
        }
    }

    private static int add(List<Runnable> ops, Runnable op) {
        ops.add(op);
        return ops.size() - 1;
    }

    /**
     * The choices the dtype timings feed, as groups of operation indices for {@link InterleavedTimer}'s race (pure
     * logic): T3's type among the decode steps and the flow's among the flow blocks, each of the candidates within
     * {@link WeightTypes#MAX_RELATIVE_ERROR} only (one that cannot be chosen must not end the others' timing); fp32
     * products on oneDNN or not ({@link WeightTypes#FP32_ONEDNN} against fp32's flow block); and the int8 kernel
     * ({@link WeightTypes#INT8_NATIVE} against FBGEMM's {@code int8} step), where both are timed. {@code stepOp} and
     * {@code flowOp} give each candidate's operations, -1 where it has none.
     */
    static List<int[]> dtypeDecisions(List<String> names, double[] errors, int[] stepOp, int[] flowOp) {
        List<Integer> t3 = new java.util.ArrayList<>();
        List<Integer> flow = new java.util.ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (errors[i] <= WeightTypes.MAX_RELATIVE_ERROR) { // NaN fails too
                if (stepOp[i] >= 0) {
                    t3.add(stepOp[i]);
                }
                if (flowOp[i] >= 0) {
                    flow.add(flowOp[i]);
                }
            }
        }
        List<int[]> out = new java.util.ArrayList<>();
        out.add(t3.stream().mapToInt(Integer::intValue).toArray());
        out.add(flow.stream().mapToInt(Integer::intValue).toArray());
        int fp32 = names.indexOf("fp32");
        int onednn = names.indexOf(WeightTypes.FP32_ONEDNN);
        if (fp32 >= 0 && onednn >= 0 && flowOp[fp32] >= 0 && flowOp[onednn] >= 0) {
            out.add(new int[] {flowOp[fp32], flowOp[onednn]});
        }
        int fbgemm = names.indexOf("int8");
        int nat = names.indexOf(WeightTypes.INT8_NATIVE);
        if (fbgemm >= 0 && nat >= 0 && stepOp[fbgemm] >= 0 && stepOp[nat] >= 0) {
            out.add(new int[] {stepOp[fbgemm], stepOp[nat]});
        }
        return out;
    }

    /**
     * Milliseconds of the streamed-block proxy's decoding side alone; the flow side is in proportion (streamSides).
     * Not shorter: at 12 ms (the proxy 0.53-0.62 s instead of 0.92-1.07) the Zen 5 EPYC's proxy chose overlapped in
     * one probe of thirteen (in line 62.1 ms against 51.5), where the engine streams about a quarter slower
     * overlapped; at 20 ms it chose in line in each of fifteen (docs/performance.md, "Seventeenth round").
     */
    static final double STREAM_DECODE_MS = 20;

    /**
     * How many decode steps and flow blocks make the two sides of the streamed-block proxy (pure logic): a decoding
     * side of about {@link #STREAM_DECODE_MS} and a flow side in the proportion of the engine's own streamed block on
     * this machine, the flow block's time over the decode step's, within [1/4, 8]. The engine's flow for a streamed
     * block (the voice prompt and the chunk so far, about 250 GFLOP) is about 240 of the probe's flow blocks (1.05
     * GFLOP each), and T3's decoding of a middle-sized block (40 tokens of 24 layers) 240 of its 4-layer steps, so the
     * ratio of the two figures is the ratio of the two sides. With the two sides alike (the proxy before) the Zen 5
     * EPYC measured a tie that came out either way, while the engine streamed with rtf 0.93-1.05 in line against
     * 1.23-1.27 overlapped; in the engine's proportion (2.5 there) the proxy had in line faster in ten runs of ten
     * (1-21%).
     */
    static int[] streamSides(double stepMs, double flowMs) {
        double step = Math.max(stepMs, 1e-3);
        double flow = Math.max(flowMs, 1e-3);
        double ratio = Math.min(8, Math.max(0.25, flow / step));
        int steps = (int) Math.max(1, Math.min(400, Math.round(STREAM_DECODE_MS / step)));
        int flows = (int) Math.max(1, Math.min(400, Math.round(STREAM_DECODE_MS * ratio / flow)));
        return new int[] {steps, flows};
    }

    /**
     * A streamed block's two ways, timed by turns ({@link InterleavedTimer}): a flow and T3's decoding of the next
     * block one after the other on this thread ({@link WeightTypes#STREAM_IN_LINE}), or the flow on a second thread
     * while this one decodes ({@link WeightTypes#STREAM_OVERLAPPED}), the sides in the engine's proportion
     * ({@link #streamSides}: whole decode steps and flow blocks of the fastest candidates, which the engine will
     * run). Both use LibTorch's intra-op threads as the engine does, so beside each other two teams share the cores:
     * whether that hides one side behind the other or makes both wait is what this measures. The helper hands its
     * OpenMP workers back after each run ({@code ThreadPools}), as the engine's flush thread does.
     */
    static Map<String, Double> timeStreamOverlap(Runnable step, double stepMs, Runnable flow, double flowMs) {
        int[] sides = streamSides(stepMs, flowMs);
        int steps = sides[0];
        int flows = sides[1];
        Runnable decode = () -> {
            for (int i = 0; i < steps; i++) {
                step.run();
            }
        };
        Runnable vocode = () -> {
            for (int i = 0; i < flows; i++) {
                flow.run();
            }
        };
        java.util.concurrent.ExecutorService helper = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tts-probe-flush");
            t.setDaemon(true);
            return t;
        });
        try {
            Runnable inLine = () -> {
                vocode.run();
                decode.run();
            };
            Runnable overlapped = () -> {
                java.util.concurrent.Future<?> done = helper.submit(() -> {
                    try {
                        vocode.run();
                    } finally {
                        dev.localai.tts.core.nn.ThreadPools.release();
                    }
                });
                decode.run();
                await(done);
            };
            // about five runs of each (the sides' times are the probe's medians)
            double[] ms = new InterleavedTimer(5 * (steps * stepMs + flows * flowMs), 7)
                    .medians(List.of(inLine, overlapped));
            Map<String, Double> out = new LinkedHashMap<>();
            out.put(WeightTypes.STREAM_IN_LINE, ms[0]);
            out.put(WeightTypes.STREAM_OVERLAPPED, ms[1]);
            return out;
        } finally {
            helper.shutdownNow();
        }
    }

    /**
     * The median time of the probe's thread workload at each intra-op thread count in {@code counts}, timed by turns
     * (each run sets its count first); LibTorch's count is put back afterwards. The workload is what runs on those
     * threads in the engine: a flow block (oneDNN convolution, attention, element-wise ops) and a HiFT-sized dilated
     * convolution (64 channels, kernel 7, dilation 3, over 0.2 s of 24 kHz samples).
     */
    static Map<Integer, Double> timeThreads(List<Integer> counts) {
        Torch.load();
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(12345);
            return timeThreads(Products.random(), counts);
        }
    }

    private static Map<Integer, Double> timeThreads(Products p, List<Integer> counts) {
        int before = torch.get_num_threads();
        try {
            List<Runnable> ops = new java.util.ArrayList<>();
            for (int n : counts) {
                ops.add(() -> {
                    torch.set_num_threads(n);
                    p.threadWork();
                });
            }
            double[] ms = new InterleavedTimer(BUDGET_MS, 64).medians(ops, List.of(everyOne(ops.size())));
            Map<Integer, Double> out = new java.util.TreeMap<>();
            for (int i = 0; i < counts.size(); i++) {
                out.put(counts.get(i), ms[i]);
            }
            return out;
        } finally {
            torch.set_num_threads(before);
        }
    }

    /** One decision among all of n operations: {0, 1, ..., n - 1}. */
    private static int[] everyOne(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }

    /**
     * The time of a HiFT-shaped chain of convolutions through the {@code nn.Conv} gateway in each layout
     * ({@link ConvLayout#CONTIGUOUS}, {@link ConvLayout#CHANNELS_LAST}) at two lengths, one run of each layout doing
     * both, the layouts raced by turns at the current thread count ({@link InterleavedTimer#medians(List, List)}, at
     * most {@link #CONV_BUDGET_MS} each). The chain: a transposed convolution 128 to 64 channels (kernel 7, stride 3,
     * as HiFT's last upsampling) to {@link #CONV_LENGTHS} samples, then a kernel-7 convolution of dilation 3 and one
     * of dilation 1 (a residual block's pair); it starts from LibTorch's default layout, so channels-last pays its one
     * conversion as HiFT does. Both lengths: a 4800-sample chain fits the caches, a 19200-sample one (the largest
     * streamed block) does not, the long blocks are most of HiFT's work, and the layouts may rank differently at the
     * two sizes (on a Zen 5 EPYC the sums were 18.4 ms contiguous against 23.0 channels-last, the long chain about
     * four times the short one in either layout). The gateway's layout switch is put back afterwards. The heap is
     * settled first ({@link NativeHeap#settle()}): in a fresh process the long chain's runs otherwise came in two regimes,
     * 12-15 ms and 30-55 ms on the Zen 5 EPYC, as glibc handed its tensors' memory back to the kernel and the next run
     * faulted it in again, which the engine's HiFT does not do. A clear winner is settled in seven rounds; a close
     * call runs to the budget (until probe 16 the four runs were each timed to their whole budgets, 1.0-1.3 s of a
     * 4.9 s probe on the Zen 5 EPYC).
     */
    static Map<String, Double> timeConvLayouts() {
        Torch.load();
        boolean before = dev.localai.tts.core.nn.Conv.channelsLast();
        NativeHeap.settle();
        try (PointerScope scope = new PointerScope()) {
            ConvChain chain = ConvChain.random();
            List<Runnable> ops = new java.util.ArrayList<>();
            for (boolean cl : new boolean[] {false, true}) {
                ops.add(() -> {
                    dev.localai.tts.core.nn.Conv.useChannelsLast(cl);
                    chain.run();
                });
            }
            double[] ms = new InterleavedTimer(CONV_BUDGET_MS, 64).medians(ops, List.of(everyOne(2)));
            Map<String, Double> out = new LinkedHashMap<>();
            out.put(ConvLayout.CONTIGUOUS, ms[0]);
            out.put(ConvLayout.CHANNELS_LAST, ms[1]);
            return out;
        } finally {
            dev.localai.tts.core.nn.Conv.useChannelsLast(before);
        }
    }

    /**
     * The probe's HiFT-shaped convolution chain ({@link #timeConvLayouts()}): its weights and its inputs at
     * {@link #CONV_LENGTHS}, made in the caller's pointer scope.
     */
    record ConvChain(Tensor up, Tensor upBias, Tensor w1, Tensor w2, Tensor bias, Tensor[] inputs) {
        static ConvChain random() {
            torch.manual_seed(54321);
            Tensor[] inputs = new Tensor[CONV_LENGTHS.length];
            for (int i = 0; i < CONV_LENGTHS.length; i++) {
                inputs[i] = torch.randn(1, 128, CONV_LENGTHS[i] / 3);
            }
            return new ConvChain(torch.randn(128, 64, 7).mul_(new Scalar(0.05)), torch.randn(64),
                    torch.randn(64, 64, 7).mul_(new Scalar(0.05)), torch.randn(64, 64, 7).mul_(new Scalar(0.05)),
                    torch.randn(64), inputs);
        }

        /** The chain at every length, in the {@code nn.Conv} gateway's current layout; its tensors freed after. */
        void run() {
            for (Tensor x : inputs) {
                try (PointerScope s = new PointerScope()) {
                    Tensor y = dev.localai.tts.core.nn.Conv.convTranspose1d(x, up, upBias, 3, 2, 0, 1, 1);
                    y = dev.localai.tts.core.nn.Conv.conv1d(y, w1, bias, 1, 9, 3, 1);
                    dev.localai.tts.core.nn.Conv.conv1d(y, w2, bias, 1, 3, 1, 1);
                }
            }
        }
    }


    /**
     * Wall-time budget of each layout's timed runs in {@link #timeConvLayouts()}, ms: a clear winner is settled in
     * seven rounds, a close call runs to it (either layout then costs about the same).
     */
    static final double CONV_BUDGET_MS = 250;

    /** Output lengths (24 kHz-side samples) of the probe's convolution chain: a first block's and the largest. */
    static final int[] CONV_LENGTHS = {4800, 19200};

    /**
     * The median time of one T3 decode step's attention (24 layers of 16 heads of 64, one query over
     * {@value #ATTENTION_POSITIONS} cached positions each, 82 MB of keys and values, so they come from memory as in
     * real decoding) in each form as T3 runs it, by turns: LibTorch's plain products ({@code baddbmm}, {@code softmax},
     * {@code bmm}) with the heads split over {@link Torch#splitThreads()} Java threads as T3's splitter does, and the
     * native kernel on LibTorch's intra-op threads. Empty where the native kernel is not loaded.
     */
    static Map<String, Double> timeDecodeAttention() {
        Torch.load();
        if (!dev.localai.tts.core.nn.CpuAttention.available()) {
            return Map.of();
        }
        int parts = Math.max(1, Math.min(16, Torch.splitThreads()));
        java.util.concurrent.ExecutorService helpers = parts == 1 ? null
                : java.util.concurrent.Executors.newFixedThreadPool(parts - 1, r -> {
                    Thread t = new Thread(r, "probe-attention");
                    t.setDaemon(true);
                    return t;
                });
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(2468);
            int layers = 24;
            long heads = 16;
            // one layer's random keys and values copied to every layer: as far apart in memory as T3's, made in a tenth
            // of the time
            Tensor k = torch.randn(1, heads, ATTENTION_POSITIONS, 64).repeat(layers, 1, 1, 1);
            Tensor v = torch.randn(1, heads, ATTENTION_POSITIONS, 64).repeat(layers, 1, 1, 1);
            Tensor q = torch.randn(heads, 1, 64);
            Tensor scores = torch.empty(heads, 1, ATTENTION_POSITIONS);
            Tensor probs = torch.empty(heads, 1, ATTENTION_POSITIONS);
            Tensor out = torch.empty(heads, 1, 64);
            Scalar zero = new Scalar(0.0);
            Scalar scale = new Scalar(0.125);
            long per = (heads + parts - 1) / parts;
            Runnable libtorch = () -> {
                for (int l = 0; l < layers; l++) {
                    int layer = l;
                    java.util.function.LongConsumer part = p -> {
                        long from = p * per;
                        long n = Math.min(per, heads - from);
                        try (PointerScope s = new PointerScope()) {
                            Tensor sc = scores.narrow(0, from, n);
                            Tensor pr = probs.narrow(0, from, n);
                            torch.baddbmm_out(sc, sc, q.narrow(0, from, n),
                                    k.select(0, layer).narrow(0, from, n).transpose(1, 2), zero, scale);
                            torch.softmax_out(pr, sc, -1);
                            torch.bmm_out(out.narrow(0, from, n), pr, v.select(0, layer).narrow(0, from, n));
                        }
                    };
                    List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                    for (long p = 1; p < parts; p++) {
                        long pp = p;
                        done.add(helpers.submit(() -> part.accept(pp)));
                    }
                    part.accept(0);
                    for (var f : done) {
                        await(f);
                    }
                }
            };
            Runnable nat = () -> {
                for (int l = 0; l < layers; l++) {
                    try (PointerScope s = new PointerScope()) {
                        dev.localai.tts.core.nn.CpuAttention.oneQuery(q, k.select(0, l), v.select(0, l),
                                (int) ATTENTION_POSITIONS, 0.125, out);
                    }
                }
            };
            double[] ms = new InterleavedTimer(BUDGET_MS, 64).medians(List.of(libtorch, nat), List.of(everyOne(2)));
            Map<String, Double> res = new LinkedHashMap<>();
            res.put(WeightTypes.ATTENTION_LIBTORCH, ms[0]);
            res.put(WeightTypes.ATTENTION_NATIVE, ms[1]);
            return res;
        } finally {
            if (helpers != null) {
                helpers.shutdownNow();
            }
        }
    }

    /** Cached positions of the probe's decode attention (a voice prompt plus a sentence). */
    static final long ATTENTION_POSITIONS = 420;

    /**
     * The candidates this machine can run: int8-native only where this project's int8 kernel is built (Linux x86-64),
     * FBGEMM's int8 only where FBGEMM runs (x86-64 with AVX2) and that kernel is not built, fp32-onednn only where the
     * LibTorch build has oneDNN's linear. Both int8 kernels read the same int8 weights for a decode step; the native
     * one reads them at about the memory's speed and FBGEMM's is bound by its compute (it lost by 1.35-3.5x on every
     * CPU measured, docs/performance.md), and quantizing and packing its matrices was 1.4 s of an 8.6 s probe, so it
     * is not timed where it cannot win ({@code -Dlocalai.tts.int8Kernel=fbgemm} still selects it).
     */
    static java.util.List<String> candidates() {
        return WeightTypes.CPU_CANDIDATES.stream()
                .filter(n -> !n.equals("int8") || dev.localai.tts.core.nn.Int8Matrix.supported()
                        && !dev.localai.tts.core.nn.Int8Kernel.available())
                .filter(n -> !n.equals(WeightTypes.INT8_NATIVE) || dev.localai.tts.core.nn.Int8Kernel.available())
                .filter(n -> !n.equals(WeightTypes.FP32_ONEDNN) || dev.localai.tts.core.nn.Linear.onednnAvailable())
                .toList();
    }

    private record Int8Step(Runnable step, double error) {}

    /**
     * int8 weights (T3 only): the same decode-step products through {@link dev.localai.tts.core.nn.Int8Matrix} on
     * {@code kernel} (kept by {@code owner}), and their error against fp32 on the first layer's products.
     */
    private static Int8Step int8Step(Products fp32, Tensor[] ref, dev.localai.tts.core.nn.Weights owner,
                                     dev.localai.tts.core.nn.Int8Matrix.Kernel kernel) {
        List<dev.localai.tts.core.nn.Int8Matrix[]> layers = new java.util.ArrayList<>();
        for (Tensor[] w : fp32.layers()) {
            layers.add(new dev.localai.tts.core.nn.Int8Matrix[] {
                dev.localai.tts.core.nn.Int8Matrix.quantize(w[0], owner, kernel),
                dev.localai.tts.core.nn.Int8Matrix.quantize(w[1], owner, kernel),
                dev.localai.tts.core.nn.Int8Matrix.quantize(w[2], owner, kernel),
                dev.localai.tts.core.nn.Int8Matrix.quantize(w[3], owner, kernel)});
        }
        Tensor[] outs = fp32.outs();
        Runnable fused = fusedStep(fp32, layers);
        Runnable step = fused != null ? fused : () -> {
            for (int i = 0; i < layers.size(); i++) {
                Tensor[] w = fp32.layers().get(i);
                dev.localai.tts.core.nn.Int8Matrix[] q = layers.get(i);
                q[0].forwardVec(fp32.x(), w[4], outs[0]);
                q[1].forwardVec(fp32.x(), w[5], outs[1]);
                q[2].forwardVec(fp32.x(), w[6], outs[2]);
                q[3].forwardVec(fp32.inner(), w[7], outs[3]);
                fp32.attendOnce();
            }
        };
        Tensor[] w = fp32.layers().get(0);
        Tensor a = torch.empty(w[0].size(0));
        Tensor b = torch.empty(w[3].size(0));
        layers.get(0)[0].forwardVec(fp32.x(), w[4], a);
        layers.get(0)[3].forwardVec(fp32.inner(), w[7], b);
        double err = relativeError(new Tensor[] {a, b}, new Tensor[] {ref[0], ref[1]});
        return new Int8Step(step, err);
    }

    /**
     * The probe's int8 layers as T3 runs them on the native kernel where the whole block is one native call
     * ({@link dev.localai.tts.core.nn.DecoderBlockKernel}): layer norms, the four products, the attention over the
     * probe's cache (fp16 where T3's caches are) and the GELU, in place on a copy of the input; null where blocks do
     * not run so. A step of the other candidates is their four products and an attention: the fused step does at least
     * the same work.
     */
    private static Runnable fusedStep(Products fp32, List<dev.localai.tts.core.nn.Int8Matrix[]> layers) {
        if (!dev.localai.tts.core.nn.DecoderBlockKernel.enabled()) {
            return null;
        }
        long d = Products.D;
        dev.localai.tts.core.nn.LayerNorm ln = dev.localai.tts.core.nn.LayerNorm.of(torch.ones(d), torch.zeros(d),
                1e-5);
        List<dev.localai.tts.core.nn.DecoderBlockKernel> blocks = new java.util.ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            dev.localai.tts.core.nn.Int8Matrix[] q = layers.get(i);
            Tensor[] w = fp32.layers().get(i);
            dev.localai.tts.core.nn.DecoderBlockKernel b = dev.localai.tts.core.nn.DecoderBlockKernel.of(ln, q[0],
                    w[4], q[1], w[5], ln, q[2], w[6], q[3], w[7], (int) (d / 64), 1e-5);
            if (b == null) {
                return null;
            }
            blocks.add(b);
        }
        boolean half = dev.localai.tts.core.nn.DecoderBlockKernel.halfCache();
        Tensor kv = half ? fp32.kv().to(ScalarType.Half) : fp32.kv();
        int cached = (int) kv.size(1);
        long bytesPerHalf = kv.numel() / 2 * (half ? 2 : 4);
        long[] k = {kv.data_ptr().address()};
        long[] v = {k[0] + bytesPerHalf};
        int[] capacity = {cached};
        int[] pos = {cached - 1};
        Tensor x = torch.empty(1, d);
        return () -> {
            x.copy_(fp32.x().view(1, d));
            for (dev.localai.tts.core.nn.DecoderBlockKernel b : blocks) {
                b.step(x, 1, k, v, capacity, pos, half);
            }
        };
    }

    private static double relativeError(Tensor[] got, Tensor[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            try (Tensor d = got[i].to(ScalarType.Float).sub(ref[i])) {
                num += Math.pow(d.norm().item_double(), 2);
                den += Math.pow(ref[i].norm().item_double(), 2);
            }
        }
        return Math.sqrt(num / den);
    }

    /** The probe's weights and inputs in one dtype. */
    private record Products(List<Tensor[]> layers, Tensor x, Tensor inner, Tensor[] flowW, Tensor flowX,
                            Tensor convX, Tensor[] outs, boolean attentionInFp32, Tensor kv, Tensor hiftW,
                            Tensor hiftX, boolean onednnLinear) {
        static final long D = 1024;
        static final long QKV = 3 * D;
        static final long INNER = 4 * D;
        static final long C = 256;
        static final Scalar ONE = new Scalar(1.0);

        static Products random() {
            List<Tensor[]> layers = new java.util.ArrayList<>();
            layers.add(new Tensor[] {w(QKV, D), w(D, D), w(INNER, D), w(D, INNER), w(QKV), w(D), w(INNER), w(D)});
            for (int i = 1; i < LAYERS; i++) { // copies of the first: their own memory, as T3's layers, made faster
                layers.add(Arrays.stream(layers.get(0)).map(t -> t.clone()).toArray(Tensor[]::new));
            }
            // to_q, to_k, to_v (512, 256), to_out (256, 512), ff in (1024, 256), ff out (256, 1024), conv (256, 512, 3)
            Tensor[] flow = {w(2 * C, C), w(2 * C, C), w(2 * C, C), w(C, 2 * C), w(4 * C, C), w(C, 4 * C),
                w(C, 2 * C, 3)};
            return new Products(layers, torch.randn(D), torch.randn(INNER), flow, torch.randn(1, FLOW_FRAMES, C),
                    torch.randn(1, 2 * C, FLOW_FRAMES), outs(ScalarType.Float), false, torch.randn(32, CACHED, 64),
                    w(64, 64, 7), torch.randn(1, 64, 4800), false);
        }

        private static Tensor w(long... shape) {
            return torch.randn(shape).mul_(new Scalar(0.02));
        }

        private static Tensor[] outs(ScalarType t) {
            return new Tensor[] {torch.empty(new long[] {QKV}, new org.bytedeco.pytorch.TensorOptions(t), null),
                torch.empty(new long[] {D}, new org.bytedeco.pytorch.TensorOptions(t), null),
                torch.empty(new long[] {INNER}, new org.bytedeco.pytorch.TensorOptions(t), null),
                torch.empty(new long[] {D}, new org.bytedeco.pytorch.TensorOptions(t), null)};
        }

        private static Tensor[] to(Tensor[] ts, ScalarType t) {
            return Arrays.stream(ts).map(w -> w.to(t)).toArray(Tensor[]::new);
        }

        Products to(ScalarType t) {
            List<Tensor[]> l = layers.stream().map(ws -> to(ws, t)).toList();
            return new Products(l, x.to(t), inner.to(t), to(flowW, t), flowX.to(t), convX.to(t), outs(t), false,
                    kv.to(t), hiftW, hiftX, false);
        }

        /** The same products with the flow block's attention computed in fp32 (as the flow's estimator can). */
        Products withAttentionInFp32() {
            return new Products(layers, x, inner, flowW, flowX, convX, outs, true, kv, hiftW, hiftX, false);
        }

        /** The same fp32 products with the flow block's linear layers on oneDNN ({@code nn.Linear}'s other kernel). */
        Products withOnednnLinear() {
            return new Products(layers, x, inner, flowW, flowX, convX, outs, false, kv, hiftW, hiftX, true);
        }

        /**
         * One decode step over every layer: its products and its single-query attention over
         * {@value #CACHED} cached positions (the inputs stay fixed: only the speed matters).
         */
        void decodeStep() {
            for (Tensor[] w : layers) {
                torch.addmv_out(outs[0], w[4], w[0], x, ONE, ONE);
                torch.addmv_out(outs[1], w[5], w[1], x, ONE, ONE);
                torch.addmv_out(outs[2], w[6], w[2], x, ONE, ONE);
                torch.addmv_out(outs[3], w[7], w[3], inner, ONE, ONE);
                attendOnce();
            }
        }

        /** Positions in the attention of the probe's decode step (a voice prompt plus a sentence). */
        static final long CACHED = 420;

        /**
         * One layer's decode attention as T3 computes it in this type: the plain products in fp32 (int8 weights
         * included), {@code scaled_dot_product_attention} otherwise; 16 heads of 64 over {@value #CACHED} keys.
         */
        void attendOnce() {
            try (PointerScope s = new PointerScope()) {
                ScalarType t = x.scalar_type();
                Tensor q = x.view(16, 1, 64);
                Tensor k = kv.narrow(0, 0, 16);
                Tensor v = kv.narrow(0, 16, 16);
                if (t.value == ScalarType.Float.value) {
                    Tensor scores = torch.bmm(q, k.transpose(1, 2)).mul_(new Scalar(0.125));
                    torch.bmm(torch.softmax(scores, -1), v);
                } else {
                    torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, false,
                            new org.bytedeco.pytorch.DoubleOptional(), false);
                }
            }
        }

        /** The thread probe's workload (fp32): a flow block and a HiFT-sized dilated convolution. */
        void threadWork() {
            try (PointerScope s = new PointerScope()) {
                flowOut();
                torch.conv1d(hiftX, hiftW, new TensorOptional(), new long[] {1}, new long[] {9}, new long[] {3}, 1);
            }
        }

        void flow() {
            try (PointerScope s = new PointerScope()) {
                flowOut();
            }
        }

        /** Attention block, feed-forward and convolution; returns the block's output (1, T, C). */
        private Tensor flowOut() {
            TensorOptional none = new TensorOptional();
            long t = FLOW_FRAMES;
            Tensor qr = lin(flowX, flowW[0]);
            Tensor kr = lin(flowX, flowW[1]);
            Tensor vr = lin(flowX, flowW[2]);
            Tensor a;
            if (!attentionInFp32 && dev.localai.tts.core.nn.Bf16Attention.takes(qr, kr, vr, 8)) {
                // as the flow's blocks attend where the kernel runs (BasicTransformerBlock's rule)
                a = dev.localai.tts.core.nn.Bf16Attention.attend(qr, kr, vr, 8, 0.125);
            } else if (dev.localai.tts.core.nn.Fp32Attention.takes(qr, kr, vr, 8)) {
                a = dev.localai.tts.core.nn.Fp32Attention.attend(qr, kr, vr, 8, 0.125);
            } else {
                Tensor q = qr.view(1, t, 8, 64).transpose(1, 2);
                Tensor k = kr.view(1, t, 8, 64).transpose(1, 2);
                Tensor v = vr.view(1, t, 8, 64).transpose(1, 2);
                ScalarType type = q.scalar_type();
                a = attentionInFp32
                        ? torch.scaled_dot_product_attention(q.to(ScalarType.Float), k.to(ScalarType.Float),
                                v.to(ScalarType.Float), none, 0.0, false, new org.bytedeco.pytorch.DoubleOptional(),
                                false).to(type)
                        : torch.scaled_dot_product_attention(q, k, v, none, 0.0, false,
                                new org.bytedeco.pytorch.DoubleOptional(), false);
                a = a.transpose(1, 2).reshape(1, t, 2 * C);
            }
            Tensor h = flowX.add(lin(a, flowW[3]));
            Tensor f = h.add(lin(torch.gelu(lin(h, flowW[4])), flowW[5]));
            torch.conv1d(convX, flowW[6], none, new long[] {1}, new long[] {1}, new long[] {1}, 1);
            return f;
        }

        /** A flow-block product on the kernel this candidate uses ({@code nn.Linear}'s rule, as the flow runs it). */
        private Tensor lin(Tensor in, Tensor w) {
            return dev.localai.tts.core.nn.Linear.linear(in, w, null, onednnLinear);
        }

        /** The first layer's products and the flow block, for the error against fp32. */
        Tensor[] run() {
            Tensor[] w = layers.get(0);
            return new Tensor[] {torch.addmv(w[4], w[0], x), torch.addmv(w[7], w[3], inner), flowOut()};
        }
    }

    /** Waits for a probe's helper task; its failure (or an interrupt) fails the probe. */
    private static void await(java.util.concurrent.Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a probe's helper task failed", e.getCause());
        }
    }
}
