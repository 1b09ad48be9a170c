package dev.localai.tts.core.tuning;

import dev.localai.tts.core.nn.Int8Kernel;
import dev.localai.tts.core.nn.Int8Matrix;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.Weights;
import dev.localai.tts.core.runtime.NativeHeap;
import dev.localai.tts.core.runtime.Torch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Measures, at a machine's first two starts ({@link ProbeFile#KEPT_PROBES}), how fast each candidate weight type runs
 * the products that dominate the engine, and how far its results are from fp32 ({@link WeightTypes#fromProbe} turns
 * the figures into a choice):
 *
 * <ul>
 *   <li><b>intra-op threads</b> (first, where LibTorch's default count differs from the logical core count and the
 *       environment does not set it): a flow block and a HiFT-sized convolution at each count
 *       ({@link IntraOpThreads}); the dtypes below are then timed at the count chosen;</li>
 *   <li><b>T3 decode step</b>: the four matrix-vector products of GPT-2 medium layers at Turbo's sizes (1024 wide,
 *       3072 fused q|k|v, 4096 MLP), over {@value ProbeWorkload#LAYERS} layers so the weights come from memory as in
 *       real decoding, each with its single-query attention over a few hundred cached positions, computed as T3
 *       computes it in that type (on an AMX Xeon bf16 products were faster than fp32 but bf16 attention made the
 *       whole bf16 step 2x slower);</li>
 *   <li><b>flow</b>: one transformer block and one convolution of the S3Gen flow's estimator at its sizes (256
 *       channels, 8 heads of 64, feed-forward 1024, a k3 convolution 512 to 256) over
 *       {@value ProbeWorkload#FLOW_FRAMES} frames.
 *       Its attention matters most: on a Zen 4 EPYC bf16 products run 3-10x faster than fp32 ones through oneDNN,
 *       but bf16 {@code scaled_dot_product_attention} 15x slower, which made the whole bf16 flow 6.6x slower.</li>
 *   <li><b>convolution layout</b> (last, at the chosen thread count): a chain shaped like HiFT's last level (a
 *       transposed convolution 128 to 64 channels, stride 3, then two kernel-7 convolutions) over 4800 and over
 *       19200 samples (a small first block and the largest streamed block) in LibTorch's default layout and
 *       channels-last ({@link ConvLayout}).</li>
 *   <li><b>decode attention</b>: one T3 decode step's attention over its cache on LibTorch's products and on the
 *       native kernel ({@link KernelTimings#timeDecodeAttention}).</li>
 * </ul>
 * The candidates are timed by turns, so a drift of the machine's speed meanwhile hits all of them alike, and raced
 * ({@link InterleavedTimer#medians(List, List)}): each stops as soon as the choices it feeds are settled, so only
 * close calls spend the whole budget.
 * The figures are kept in {@code <cache>/localai-tts/dtype-probe.properties} ({@code $XDG_CACHE_HOME} or
 * {@code ~/.cache}; a file of its own for each set of kernel-dispatch caps, {@link #cacheFile()}), keyed by CPU model,
 * LibTorch version and core count: a file for another key, or one that cannot be read, is measured again and
 * replaced. A file written by one probe is measured again at the next start and the two combined, each timing the
 * faster ({@link ProbeFile}): a moment when the machine was not itself must not decide for good.
 *
 * <p>This class runs the probe and names the machine; {@link ProbeFile} keeps the figures, {@link ProbeWorkload} is
 * what the weight types are timed on, and {@link KernelTimings} times the thread counts, the streamed block, the
 * convolution layouts and the decode attention.
 */
public final class DtypeProbe {
    private static final Logger LOG = Logger.getLogger(DtypeProbe.class.getName());
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
     * convolution layouts raced; 18: an fp32 flow block attends with {@code nn.Fp32Attention}'s AVX2 path on CPUs
     * without AVX-512; 19: one session's fused decode step shares its work out without barriers, so T3 beside the
     * flow (the streamed block overlapped) runs differently; 20: an fp32 flow block attends with {@code
     * nn.Fp32Attention}'s SSE4.1 path on CPUs without AVX).
     */
    static final int PROBE_VERSION = 20;
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
     * some seconds, at a machine's first two starts: the engine says so on its progress stream).
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
     * {@link ProbeFile#loadOrMeasure(Path, String, Supplier, Runnable)}, keeping how long it measured, if it did, for
     * {@link #measuredSeconds()} (the notice included: it is part of the pause).
     */
    static WeightTypes.Probe timedLoadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure,
            Runnable beforeMeasuring) {
        long[] start = {0};
        WeightTypes.Probe p = ProbeFile.loadOrMeasure(file, key, measure, () -> {
            start[0] = System.nanoTime();
            beforeMeasuring.run();
        });
        if (start[0] != 0) {
            measuredSeconds = (System.nanoTime() - start[0]) / 1e9;
        }
        return p;
    }


    /**
     * {@code <cache>/localai-tts/dtype-probe.properties}, or with kernel-dispatch caps in the environment {@code
     * dtype-probe-<hash of the caps>.properties} ({@link ProbeFile#fileName}).
     */
    public static Path cacheFile() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("localai-tts").resolve(ProbeFile.fileName(dispatchCaps()));
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
     * pytorch 2.10.0-1.5.13 | 2 cores | probe 19}, plus any kernel-dispatch cap set in the
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
     * Times every CPU candidate now (about 3 s on a 2-core Zen 5 EPYC); the key is left empty. First the intra-op thread
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
             Weights int8Owner = new Weights()) {
            torch.manual_seed(12345);
            ProbeWorkload fp32 = ProbeWorkload.random();
            phases.mark("random weights");
            List<Integer> counts = IntraOpThreads.candidates(Torch.defaultThreads(),
                    Runtime.getRuntime().availableProcessors(), Torch.threadsSetByEnvironment());
            Map<Integer, Double> threadMs = counts.size() > 1 ? KernelTimings.timeThreads(fp32, counts) : Map.of();
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
            Map<Byte, ProbeWorkload> converted = new java.util.HashMap<>();
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                if (name.equals("int8") || name.equals(WeightTypes.INT8_NATIVE)) {
                    ProbeWorkload.Int8Step s = ProbeWorkload.int8Step(fp32, ref, int8Owner, name.equals("int8")
                            ? Int8Matrix.Kernel.FBGEMM
                            : Int8Matrix.Kernel.NATIVE);
                    steps[i] = s.step();
                    errors[i] = s.error();
                } else if (name.equals(WeightTypes.BF16_FP32_ATTENTION)) {
                    ProbeWorkload p = converted
                            .computeIfAbsent(ScalarType.BFloat16.value, t -> fp32.to(ScalarType.BFloat16))
                            .withAttentionInFp32();
                    errors[i] = ProbeWorkload.relativeError(p.run(), ref);
                    flows[i] = p::flow;
                } else if (name.equals(WeightTypes.FP32_ONEDNN)) {
                    ProbeWorkload p = fp32.withOnednnLinear();
                    errors[i] = ProbeWorkload.relativeError(p.run(), ref);
                    flows[i] = p::flow;
                } else {
                    ScalarType type = WeightTypes.scalarType(name);
                    ProbeWorkload p = name.equals("fp32") ? fp32
                            : converted.computeIfAbsent(type.value, t -> fp32.to(type));
                    errors[i] = name.equals("fp32") ? 0 : ProbeWorkload.relativeError(p.run(), ref);
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
            double[] ms = new InterleavedTimer(KernelTimings.BUDGET_MS, 64).medians(ops,
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
                    : KernelTimings.timeStreamOverlap(steps[fastestStep], f.get(names.get(fastestStep)).t3StepMs(),
                    flows[fastestFlow], f.get(names.get(fastestFlow)).flowMs());
            phases.mark("streamed block");
            var cl = KernelTimings.timeConvLayouts();
            phases.mark("convolution layouts");
            var da = KernelTimings.timeDecodeAttention();
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
     * The candidates this machine can run: int8-native only where this project's int8 kernel is built (Linux x86-64),
     * FBGEMM's int8 only where FBGEMM runs (x86-64 with AVX2) and that kernel is not built, fp32-onednn only where the
     * LibTorch build has oneDNN's linear. Both int8 kernels read the same int8 weights for a decode step; the native
     * one reads them at about the memory's speed and FBGEMM's is bound by its compute (it lost by 1.35-3.5x on every
     * CPU measured, docs/performance.md), and quantizing and packing its matrices was 1.4 s of an 8.6 s probe, so it
     * is not timed where it cannot win ({@code -Dlocalai.tts.int8Kernel=fbgemm} still selects it).
     */
    static java.util.List<String> candidates() {
        return WeightTypes.CPU_CANDIDATES.stream()
                .filter(n -> !n.equals("int8") || Int8Matrix.supported() && !Int8Kernel.available())
                .filter(n -> !n.equals(WeightTypes.INT8_NATIVE) || Int8Kernel.available())
                .filter(n -> !n.equals(WeightTypes.FP32_ONEDNN) || Linear.onednnAvailable())
                .toList();
    }
}
