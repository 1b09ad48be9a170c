package dev.localai.tts.core.tuning;

import dev.localai.tts.core.nn.Conv;
import dev.localai.tts.core.nn.CpuAttention;
import dev.localai.tts.core.nn.ThreadPools;
import dev.localai.tts.core.runtime.NativeHeap;
import dev.localai.tts.core.runtime.Torch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The weight-type probe's timings of the machine's kernels and its thread use ({@link DtypeProbe}): the intra-op
 * thread counts, a streamed block in line or overlapped, the convolution layouts and T3's decode attention, each by
 * turns ({@link InterleavedTimer}).
 */
final class KernelTimings {
    /** Wall-time budget of one candidate's timed runs, ms (they alternate with the others'). */
    static final double BUDGET_MS = 250;

    private KernelTimings() {}

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
            // work on the helper hands its OpenMP workers back afterwards, as the engine's flush thread does
            java.util.function.Function<Runnable, java.util.concurrent.Future<?>> onHelper =
                    work -> helper.submit(() -> {
                        try {
                            work.run();
                        } finally {
                            ThreadPools.release();
                        }
                    });
            Runnable overlapped = () -> {
                java.util.concurrent.Future<?> done = onHelper.apply(vocode);
                decode.run();
                await(done);
            };
            // about five runs of each (the sides' times are the probe's medians); the step and the flow block are
            // warm from the weight types' race, so the warm-up is one flow block on the helper thread (its OpenMP
            // team's first use) and one step here, not a whole run of each way (about 130 ms on the Zen 5 EPYC)
            Runnable warmUp = () -> {
                await(onHelper.apply(flow));
                step.run();
            };
            double[] ms = new InterleavedTimer(5 * (steps * stepMs + flows * flowMs), 7).warmingUpWith(warmUp)
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
            return timeThreads(ProbeWorkload.random(), counts);
        }
    }

    static Map<Integer, Double> timeThreads(ProbeWorkload p, List<Integer> counts) {
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
    static int[] everyOne(int n) {
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
        boolean before = Conv.channelsLast();
        NativeHeap.settle();
        try (PointerScope scope = new PointerScope()) {
            ConvChain chain = ConvChain.random();
            List<Runnable> ops = new java.util.ArrayList<>();
            for (boolean cl : new boolean[] {false, true}) {
                ops.add(() -> {
                    Conv.useChannelsLast(cl);
                    chain.run();
                });
            }
            double[] ms = new InterleavedTimer(CONV_BUDGET_MS, 64).medians(ops, List.of(everyOne(2)));
            Map<String, Double> out = new LinkedHashMap<>();
            out.put(ConvLayout.CONTIGUOUS, ms[0]);
            out.put(ConvLayout.CHANNELS_LAST, ms[1]);
            return out;
        } finally {
            Conv.useChannelsLast(before);
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
                    Tensor y = Conv.convTranspose1d(x, up, upBias, 3, 2, 0, 1, 1);
                    y = Conv.conv1d(y, w1, bias, 1, 9, 3, 1);
                    Conv.conv1d(y, w2, bias, 1, 3, 1, 1);
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
        if (!CpuAttention.available()) {
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
                        CpuAttention.oneQuery(q, k.select(0, l), v.select(0, l),
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

    /** Waits for a probe's helper task; its failure (or an interrupt) fails the probe. */
    static void await(java.util.concurrent.Future<?> f) {
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
