package dev.localai.tts.core.tuning;

import dev.localai.tts.core.runtime.Device;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Supplier;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The one place that decides the weight types (dtypes) of T3 and the S3Gen flow; HiFT and the voice encoders always
 * run in fp32.
 *
 * <ul>
 *   <li><b>An explicit dtype always wins</b>: T3 in it; the flow in it too on the CPU when it is bf16 (fp16 flows are
 *       not supported on the CPU), else fp32; for {@code int8} (T3's GPT-2 matrices in int8, a CPU-only type) the
 *       flow takes the type the probe measured fastest for it.</li>
 *   <li><b>GPU</b>: T3 in bf16 from compute capability 8.0 (Ampere) on, fp16 on 7.x (no bf16 tensor cores), fp32
 *       below; the flow in fp32 ({@link #gpuDtype}). When the capability is unknown (the engine alone cannot ask
 *       the CUDA driver; {@code tts-cuda} can) bf16 is assumed.</li>
 *   <li><b>CPU: by measurement, not by cpuinfo flags.</b> A {@code avx512_bf16} flag does not say bf16 is fast: on a
 *       Zen 4 EPYC bf16 T3 decode is 3x and the flow 6.6x <em>slower</em> than fp32, on an Intel AMX Xeon 2-3.6x
 *       faster. {@link DtypeProbe} times a T3 decode step and a flow-sized product in each candidate dtype once per
 *       machine; for T3 and the flow separately the fastest candidate whose measured error against fp32 is within
 *       its bound wins. {@code int8} is a T3-only candidate where FBGEMM runs.</li>
 * </ul>
 */
public final class WeightTypes {
    /**
     * Largest relative (L2) error of a probe product against fp32 that a dtype may show and still be chosen. The same
     * bound as the end-to-end accuracy tests ({@code T3Bf16AccuracyTest}, {@code S3GenFlowBf16AccuracyTest}: 3e-2 L2
     * on the T3 logits and the flow mel); one product's error is a small part of that (bf16 rounding, about 3e-3).
     */
    public static final double MAX_RELATIVE_ERROR = 3e-2;
    /** A candidate must beat the current choice by this factor to replace fp32 (timing noise is not a reason). */
    static final double MIN_GAIN = 1.05;

    /**
     * Whether a measured time beats a baseline by the noise margin: both finite and positive, and {@code ms} at
     * most 1/{@link #MIN_GAIN} of {@code baseMs}. The one test behind every measured choice of a kernel, layout or
     * thread count against the default.
     */
    static boolean clearlyFaster(double ms, double baseMs) {
        return clearlyFaster(ms, baseMs, MIN_GAIN);
    }

    /** As {@link #clearlyFaster(double, double)}, by a margin of {@code gain} instead of the probe's noise margin. */
    static boolean clearlyFaster(double ms, double baseMs, double gain) {
        return Double.isFinite(ms) && Double.isFinite(baseMs) && ms > 0 && baseMs > 0 && ms * gain < baseMs;
    }

    private WeightTypes() {}

    /**
     * The weight types chosen.
     *
     * @param t3                T3's weight type
     * @param flow              the S3Gen flow's weight type
     * @param flowAttentionFp32 the flow's estimator attention computed in fp32 (a bf16 flow on the CPU)
     * @param fp32LinearOnednn  fp32 {@code nn.Linear} products on oneDNN rather than OpenBLAS (measured faster on this
     *                          CPU: {@link #FP32_ONEDNN}); process-wide, for the flow, HiFT and the voice encoders
     * @param int8Native        int8 matrices on this project's kernel rather than FBGEMM's (measured faster on this
     *                          CPU: {@link #INT8_NATIVE}); process-wide, for T3's int8 weights
     * @param why               how they were chosen, for the log
     */
    public record Plan(ScalarType t3, ScalarType flow, boolean flowAttentionFp32, boolean fp32LinearOnednn,
                       boolean int8Native, String why) {
        /** A plan whose int8 matrices (if any) stay on FBGEMM. */
        public Plan(ScalarType t3, ScalarType flow, boolean flowAttentionFp32, boolean fp32LinearOnednn, String why) {
            this(t3, flow, flowAttentionFp32, fp32LinearOnednn, false, why);
        }

        /** A plan whose fp32 products stay on LibTorch's own kernel. */
        public Plan(ScalarType t3, ScalarType flow, boolean flowAttentionFp32, String why) {
            this(t3, flow, flowAttentionFp32, false, why);
        }

        /** A plan whose flow attends in its own weight type. */
        public Plan(ScalarType t3, ScalarType flow, String why) {
            this(t3, flow, false, why);
        }
    }

    /**
     * The flow-only candidate: bf16 weights with the estimator's attention in fp32 (where bf16 attention is slow but
     * bf16 products are fast, as on a Zen 4 EPYC).
     */
    public static final String BF16_FP32_ATTENTION = "bf16-fp32-attention";

    /**
     * The flow-only candidate fp32 with its linear layers' products on oneDNN instead of OpenBLAS (pinned to one
     * thread): where it wins, fp32 {@code nn.Linear} products go to oneDNN process-wide, whichever dtype the flow
     * takes (HiFT and the voice encoders are fp32).
     */
    public static final String FP32_ONEDNN = "fp32-onednn";

    /**
     * The T3-only candidate int8 on this project's kernel ({@code nn.Int8Kernel}: each input row quantized on its own,
     * the weights read at memory speed) instead of FBGEMM's: where it is measured faster than FBGEMM's int8, every
     * int8 matrix takes it, whichever T3 type is chosen or given.
     */
    public static final String INT8_NATIVE = "int8-native";

    /** The probe's name of T3's decode attention on LibTorch's plain products. */
    public static final String ATTENTION_LIBTORCH = "libtorch";
    /** The probe's name of T3's decode attention on this project's kernel ({@code nn.CpuAttention}). */
    public static final String ATTENTION_NATIVE = "native";

    /**
     * T3's decode attention on the native kernel, from the probe's times by form (pure logic): only when both were
     * measured and the native one is {@link #clearlyFaster}.
     */
    public static boolean nativeDecodeAttention(Map<String, Double> ms) {
        Double base = ms.get(ATTENTION_LIBTORCH);
        Double nat = ms.get(ATTENTION_NATIVE);
        return base != null && nat != null && clearlyFaster(nat, base);
    }

    /** The probe's name of a streamed block's flow run on the request's thread while T3 waits. */
    public static final String STREAM_IN_LINE = "in_line";
    /** The probe's name of a streamed block's flow run on a second thread while T3 decodes the next block. */
    public static final String STREAM_OVERLAPPED = "overlapped";

    /**
     * How much faster the probe's streamed-block proxy must run overlapped than in line for a stream to overlap: 1.3,
     * not the {@link #MIN_GAIN} of the other choices. The proxy times the two sides' throughput; a stream overlapped
     * also gets smaller blocks from its pacer (the slower side alone must keep up, not both in turn), and each block
     * reruns the flow over the voice prompt, so the same machine that runs the proxy faster overlapped can stream
     * slower. On a 2-core AMD EPYC Zen 4 (25/17) about one fresh probe in four (9 of 39) timed the proxy 8-15%
     * faster overlapped, while the engine, overlapped, streamed 13-19% slower ({@code streamed_rtf}) and left its
     * listener waiting about twice as long (1.2-1.3 s against 0.5-0.7; under the AVX2 caps 2.6 against 2.1 s); on
     * the Zen 5 EPYC the proxy 11% faster overlapped went with a stream 22-32% slower (docs/performance.md,
     * "Fifteenth" and "Thirty-seventh round"). Only where overlapping hides at least this much of the two sides'
     * time can the stream gain.
     */
    static final double STREAM_OVERLAP_GAIN = 1.3;

    /**
     * Whether a streamed request runs each block's flow and vocoder beside T3's decoding of the next block, from the
     * probe's times of the two ways (pure logic): in line unless both were measured and overlapping is
     * {@link #clearlyFaster} by {@link #STREAM_OVERLAP_GAIN}. Both ways do the same work on the same cores; beside
     * each other they share them, and on a machine where that costs more than it hides (oversubscribed OpenMP teams
     * waiting for each other) every block comes later. With no figures (a probe that did not time it) it overlaps, as
     * before the probe did.
     */
    public static boolean overlapStreaming(Map<String, Double> ms) {
        Double inLine = ms.get(STREAM_IN_LINE);
        Double overlapped = ms.get(STREAM_OVERLAPPED);
        if (inLine == null || overlapped == null) {
            return true;
        }
        return clearlyFaster(overlapped, inLine, STREAM_OVERLAP_GAIN);
    }

    /**
     * What the probe measured for one candidate dtype.
     *
     * @param t3StepMs      time of the T3-sized decode products (matrix-vector at Turbo sizes), ms
     * @param flowMs        time of the flow-sized product, ms ({@code NaN}: not measured, not a flow candidate)
     * @param relativeError relative L2 error of the products against fp32 (0 for fp32)
     */
    public record Figure(double t3StepMs, double flowMs, double relativeError) {}

    /**
     * The probe's figures, by dtype name ({@code fp32}, {@code bf16}, ...), for a machine {@code key}.
     *
     * @param key      the machine the figures are for (CPU model, LibTorch version, cores)
     * @param figures  by dtype name, fp32 first
     * @param threadMs the time of the probe's thread workload by intra-op thread count, ms, in ascending count
     *                 (empty when only one count was a candidate; {@link IntraOpThreads#fromTimings} chooses)
     * @param convLayoutMs the time of the probe's convolution chain by layout ({@link ConvLayout#CONTIGUOUS},
     *                 {@link ConvLayout#CHANNELS_LAST}), ms ({@link ConvLayout#channelsLast} chooses)
     * @param decodeAttentionMs the time of a T3 decode step's attention over its cache by form
     *                 ({@link #ATTENTION_LIBTORCH}, {@link #ATTENTION_NATIVE}), ms ({@link #nativeDecodeAttention}
     *                 chooses)
     * @param streamOverlapMs the time of a streamed block's proxy (T3 decode steps and flow blocks) by way
     *                 ({@link #STREAM_IN_LINE}, {@link #STREAM_OVERLAPPED}), ms ({@link #overlapStreaming} chooses)
     */
    public record Probe(String key, Map<String, Figure> figures, Map<Integer, Double> threadMs,
                        Map<String, Double> convLayoutMs, Map<String, Double> decodeAttentionMs,
                        Map<String, Double> streamOverlapMs) {
        public Probe {
            figures = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(figures));
            threadMs = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(threadMs));
            convLayoutMs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(convLayoutMs));
            decodeAttentionMs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(decodeAttentionMs));
            streamOverlapMs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(streamOverlapMs));
        }

        /** Without streamed-block timings (streaming overlaps, as before the probe timed it). */
        public Probe(String key, Map<String, Figure> figures, Map<Integer, Double> threadMs,
                     Map<String, Double> convLayoutMs, Map<String, Double> decodeAttentionMs) {
            this(key, figures, threadMs, convLayoutMs, decodeAttentionMs, Map.of());
        }

        /** Without decode-attention timings (LibTorch's form stays). */
        public Probe(String key, Map<String, Figure> figures, Map<Integer, Double> threadMs,
                     Map<String, Double> convLayoutMs) {
            this(key, figures, threadMs, convLayoutMs, Map.of());
        }

        /** Figures and thread timings without convolution-layout timings (the default layout stays). */
        public Probe(String key, Map<String, Figure> figures, Map<Integer, Double> threadMs) {
            this(key, figures, threadMs, Map.of());
        }

        /** Figures without thread timings (one thread count was a candidate). */
        public Probe(String key, Map<String, Figure> figures) {
            this(key, figures, Map.of());
        }

        /** One line for the log: the thread timings, then every candidate's times and error. */
        public String describe() {
            StringBuilder b = new StringBuilder();
            threadMs.forEach((n, ms) -> b.append(String.format(Locale.ROOT, "%s%d thread%s %.2f ms",
                    b.isEmpty() ? "" : ", ", n, n == 1 ? "" : "s", ms)));
            figures.forEach((name, f) -> {
                if (!b.isEmpty()) {
                    b.append("; ");
                }
                b.append(String.format(Locale.ROOT, "%s T3 step %.2f ms, flow block %.2f ms, error %.1e", name,
                        f.t3StepMs(), f.flowMs(), f.relativeError()));
            });
            convLayoutMs.forEach((name, ms) -> b.append(String.format(Locale.ROOT, "%sconvolutions %s %.2f ms",
                    b.isEmpty() ? "" : "; ", name.replace('_', '-'), ms)));
            decodeAttentionMs.forEach((name, ms) -> b.append(String.format(Locale.ROOT,
                    "%sdecode attention %s %.2f ms", b.isEmpty() ? "" : "; ", name, ms)));
            streamOverlapMs.forEach((name, ms) -> b.append(String.format(Locale.ROOT,
                    "%sstreamed block %s %.2f ms", b.isEmpty() ? "" : "; ", name.replace('_', ' '), ms)));
            return b.toString();
        }
    }

    /**
     * The weight types: {@code explicit} when given, the GPU rule on CUDA, else the fastest accurate candidates of
     * {@code probe} (called only on the CPU without an explicit dtype).
     */
    public static Plan choose(ScalarType explicit, Device device, Supplier<Probe> probe) {
        if (explicit != null) {
            if (explicit.value == ScalarType.Char.value) {
                if (device.isCuda()) {
                    throw new IllegalArgumentException("int8 weights are a CPU option; on a GPU use bf16 or fp16");
                }
                // int8 is T3's alone: the flow takes the type measured fastest for it
                Plan measured = fromProbe(probe.get());
                return new Plan(explicit, measured.flow(), measured.flowAttentionFp32(), measured.fp32LinearOnednn(),
                        measured.int8Native(), "explicit int8 T3; flow " + measured.why());
            }
            boolean bf16 = explicit.value == ScalarType.BFloat16.value;
            return new Plan(explicit, bf16 && !device.isCuda() ? ScalarType.BFloat16 : ScalarType.Float,
                    "explicit dtype");
        }
        if (device.isCuda()) {
            ScalarType t3 = gpuDtype(OptionalInt.empty());
            return new Plan(t3, ScalarType.Float, "auto: GPU (compute capability unknown here; "
                    + "tts-cuda's CudaTts passes the rule's choice for the real one)");
        }
        return fromProbe(probe.get());
    }

    /**
     * T3's weight type on a GPU of compute capability {@code major * 10 + minor}: bf16 from Ampere (80) on, where it is
     * as fast as fp16 and cannot overflow; fp16 on Volta/Turing (7x); fp32 below. Unknown: bf16.
     */
    public static ScalarType gpuDtype(OptionalInt computeCapability) {
        if (computeCapability.isEmpty() || computeCapability.getAsInt() >= 80) {
            return ScalarType.BFloat16;
        }
        return computeCapability.getAsInt() >= 70 ? ScalarType.Half : ScalarType.Float;
    }

    /**
     * The CPU choice from measured figures (pure logic): for T3 the candidate with the shortest decode step and for
     * the flow the one with the shortest flow product, among those within {@link #MAX_RELATIVE_ERROR}; fp32 unless
     * another is at least {@link #MIN_GAIN} times faster.
     */
    public static Plan fromProbe(Probe p) {
        Map<String, Figure> f = p.figures();
        String t3 = fastest(f, true);
        String flow = fastest(f, false);
        boolean attn32 = flow.equals(BF16_FP32_ATTENTION);
        Figure onednn = f.get(FP32_ONEDNN);
        Figure fp32 = f.get("fp32");
        boolean linearOnednn = onednn != null && fp32 != null && onednn.relativeError() <= MAX_RELATIVE_ERROR
                && ms(onednn, false) * MIN_GAIN < ms(fp32, false);
        ScalarType flowType = attn32 ? ScalarType.BFloat16 : flow.equals(FP32_ONEDNN) ? ScalarType.Float
                : scalarType(flow);
        return new Plan(t3.equals(INT8_NATIVE) ? ScalarType.Char : scalarType(t3), flowType, attn32, linearOnednn,
                int8Native(f), "auto: measured on this CPU (" + p.describe() + ")");
    }

    /**
     * Whether int8 matrices take the native kernel: its figure within the error bound and its decode step clearly
     * faster ({@link #clearlyFaster}) than FBGEMM's int8, or FBGEMM's not measured (it does not run here).
     */
    static boolean int8Native(Map<String, Figure> f) {
        Figure n = f.get(INT8_NATIVE);
        if (n == null || !(n.relativeError() <= MAX_RELATIVE_ERROR) || !Double.isFinite(n.t3StepMs())) {
            return false;
        }
        Figure fb = f.get("int8");
        return fb == null || clearlyFaster(n.t3StepMs(), fb.t3StepMs());
    }

    private static String fastest(Map<String, Figure> figures, boolean t3) {
        Figure fp32 = figures.get("fp32");
        String best = "fp32";
        double bestMs = fp32 == null ? Double.POSITIVE_INFINITY : ms(fp32, t3);
        for (var e : figures.entrySet()) {
            Figure f = e.getValue();
            double ms = ms(f, t3);
            boolean accurate = f.relativeError() <= MAX_RELATIVE_ERROR; // NaN fails too
            if (!e.getKey().equals("fp32") && accurate && ms > 0 && ms * MIN_GAIN < bestMs) {
                best = e.getKey();
                bestMs = ms;
            }
        }
        return best;
    }

    private static double ms(Figure f, boolean t3) {
        double ms = t3 ? f.t3StepMs() : f.flowMs();
        return Double.isFinite(ms) ? ms : Double.POSITIVE_INFINITY;
    }

    /**
     * The dtype names the probe times on the CPU, in order. {@code int8} is a T3-only candidate (its flow time is not
     * measured), and only where FBGEMM runs ({@code DtypeProbe} leaves it out elsewhere), {@link #INT8_NATIVE} the same
     * on this project's kernel, where it is built; {@link #BF16_FP32_ATTENTION}
     * and {@link #FP32_ONEDNN} flow-only ones (their T3 time is not measured).
     */
    public static final List<String> CPU_CANDIDATES = List.of("fp32", "bf16", "int8", INT8_NATIVE,
            BF16_FP32_ATTENTION, FP32_ONEDNN);

    /**
     * {@code fp32}/{@code float32}, {@code bf16}/{@code bfloat16}, {@code fp16}/{@code float16}/{@code half}, or
     * {@code int8} ({@code Char}: T3's GPT-2 matrices in int8 on the CPU, everything else fp32).
     */
    public static ScalarType scalarType(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32", "float" -> ScalarType.Float;
            case "bf16", "bfloat16" -> ScalarType.BFloat16;
            case "fp16", "float16", "half" -> ScalarType.Half;
            case "int8" -> ScalarType.Char;
            default -> throw new IllegalArgumentException("dtype must be fp32, bf16, fp16 or int8: " + name);
        };
    }

    /** The short name of a weight type: {@code fp32}, {@code bf16}, {@code fp16} or {@code int8}. */
    public static String name(ScalarType t) {
        if (t.value == ScalarType.Char.value) {
            return "int8";
        }
        if (t.value == ScalarType.BFloat16.value) {
            return "bf16";
        }
        if (t.value == ScalarType.Half.value) {
            return "fp16";
        }
        return "fp32";
    }
}
