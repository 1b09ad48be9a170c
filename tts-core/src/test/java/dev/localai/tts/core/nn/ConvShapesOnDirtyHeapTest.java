package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.parity.CondsComponent;
import dev.localai.tts.core.parity.E2eComponent;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.HeapPoison;
import dev.localai.tts.core.voice.TensorArrays;
import dev.localai.tts.core.voice.campplus.CampPlus;
import dev.localai.tts.core.voice.campplus.CampPlusConfig;
import dev.localai.tts.core.voice.s3tokenizer.S3TokenizerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every convolution shape the models use, checked against a double-precision loop on a heap poisoned with NaN,
 * +Inf and 1e30 (issue 12). The shapes are recorded from real runs through {@link Conv}: the tiny golden pipeline
 * (voice conditionals from a clip, then text to waveform), and at the official Turbo sizes with random weights
 * the HiFT vocoder, the S3Gen flow (fp32 and bf16) and CAMPPlus; the S3 tokenizer's three convolutions at Turbo
 * size come from its config (its 470 MB of weights are too many to make up in a test).
 *
 * <p>Without the gateway's rule this fails on any x86-64 machine with oneDNN: the poisoned heap puts NaN in the
 * padded channel lanes of oneDNN's blocked layouts.
 */
class ConvShapesOnDirtyHeapTest {
    /** Cap on multiply-adds per checked shape, so the double loop stays fast. */
    private static final long MAX_MACS = 8_000_000L;
    private static List<ConvShape> shapes;
    /** The same layers at the longest length each was run at (not capped): oneDNN's choices depend on it. */
    private static List<ConvShape> fullShapes;

    @BeforeAll
    static void recordEveryShapeTheModelsUse(@TempDir Path tmp) throws Exception {
        Torch.load();
        Conv.startRecording();
        Set<ConvShape> seen;
        try {
            runTinyGoldenPipeline(tmp);
            runTurboSizedParts(tmp);
        } finally {
            seen = Conv.stopRecording();
        }
        List<ConvShape> all = new ArrayList<>(seen);
        all.addAll(s3TokenizerTurboShapes());
        shapes = dedupe(all);
        fullShapes = dedupe(all, false);
    }

    /**
     * Every shape at the length the models ran it, in both layouts (oneDNN's kernels choose their blocking by shape
     * and thread count: a channels-last one divided by zero at two threads for some channel pairs,
     * {@code ConvChannelsLastTest}), at thread counts a user's machine may have, 1 to 16 (more threads than this
     * machine's cores only make the runs slower): every output finite and, against the same convolution at one
     * thread in the default layout, the same to rounding. A crash here ends the test JVM.
     */
    @TestFactory
    Stream<DynamicTest> everyShapeAtTheModelsLengthsRunsAtOneToSixteenThreads() {
        return fullShapes.stream().map(s -> DynamicTest.dynamicTest("threads " + s, () -> {
            boolean layout = Conv.channelsLast();
            int threads = torch.get_num_threads();
            try (PointerScope scope = new PointerScope()) {
                Operands o = Operands.random(s);
                Conv.useChannelsLast(false);
                torch.set_num_threads(1);
                Tensor ref = run(s, o.x(), o.w(), o.b()).to(torch.ScalarType.Float);
                double scale = ref.abs().max().item_double();
                double tol = (o.type() == torch.ScalarType.Float ? 1e-4 : 2e-2) * (1 + scale);
                for (boolean channelsLast : new boolean[] {true, false}) {
                    Conv.useChannelsLast(channelsLast);
                    for (int n : new int[] {2, 3, 4, 8, 16}) {
                        torch.set_num_threads(n);
                        Tensor y = run(s, o.x(), o.w(), o.b()).to(torch.ScalarType.Float);
                        String what = s + (channelsLast ? " channels-last" : "") + " at " + n + " threads";
                        assertThat(torch.isfinite(y).all().item_bool()).as("%s: finite", what).isTrue();
                        assertThat(Golden.maxAbsDiff(y, ref)).as(what).isLessThanOrEqualTo(tol);
                    }
                }
            } finally {
                torch.set_num_threads(threads);
                Conv.useChannelsLast(layout);
            }
        }));
    }

    @Test
    void theRecordIncludesTheShapesThatBrokeOnZen4AndBothPaths() {
        assertThat(shapes).as("HiFT source_downs[1]: 18 channels, k 6, stride 3").anyMatch(s ->
                s.kind() == ConvShape.Kind.CONV1D && s.inputChannelsPerGroup() == 18 && s.weight().get(2) == 6
                        && s.stride().get(0) == 3);
        assertThat(shapes).anyMatch(s -> s.kind() == ConvShape.Kind.CONV_TRANSPOSE1D);
        assertThat(shapes).anyMatch(s -> s.kind() == ConvShape.Kind.CONV2D);
        assertThat(shapes).anyMatch(s -> s.groups() > 1);
        assertThat(shapes).anyMatch(s -> s.dtype().equals("BFloat16"));
        assertThat(shapes).anyMatch(s -> Conv.oneDnnSafe(s.inputChannelsPerGroup(), s.groups()));
        assertThat(shapes).anyMatch(s -> !Conv.oneDnnSafe(s.inputChannelsPerGroup(), s.groups()));
        System.out.println(shapes.size() + " distinct convolution shapes");
    }

    @TestFactory
    Stream<DynamicTest> everyShapeMatchesADoublePrecisionLoopOnAPoisonedHeap() {
        return shapes.stream().map(s -> DynamicTest.dynamicTest(s.toString(), () -> check(s, false)));
    }

    /**
     * The same with the gateway's channels-last layout on (the engine's choice where the probe measured it faster),
     * the input in LibTorch's default layout for one half of the shapes and already channels-last for the other (as
     * inside HiFT's chain): the block rule must hold in that layout too, and the output must stay channels-last. At
     * two intra-op threads or more, as the engine runs on any machine of two cores: oneDNN chooses its kernels and
     * their blocking by the thread count, and one of its channels-last kernels killed the process at two threads
     * only (CAMPPlus's 1024 to 512 transit layer, {@code ConvChannelsLastTest}).
     */
    @TestFactory
    Stream<DynamicTest> everyShapeMatchesItChannelsLastToo() {
        return shapes.stream().map(s -> DynamicTest.dynamicTest("channels-last " + s, () -> {
            boolean before = Conv.channelsLast();
            int threads = torch.get_num_threads();
            Conv.useChannelsLast(true);
            torch.set_num_threads(Math.max(2, threads));
            try {
                check(s, (s.hashCode() & 1) == 0);
            } finally {
                torch.set_num_threads(threads);
                Conv.useChannelsLast(before);
            }
        }));
    }

    private static void check(ConvShape s, boolean channelsLastInput) {
        for (float poison : HeapPoison.VALUES) {
            try (PointerScope scope = new PointerScope()) {
                Operands o = Operands.random(s);
                torch.ScalarType dt = o.type();
                long[] xs = o.xs();
                long[] ws = o.ws();
                Tensor x = channelsLastInput && xs.length == 3 ? Conv.channelsLast4d(o.x()).squeeze(2) : o.x();
                Tensor w = o.w();
                Tensor b = o.b();
                long padded = xs[0] * roundUp(xs[1], Conv.BLOCK) * product(xs, 2) * x.element_size();
                long paddedW = roundUp(ws[0], Conv.BLOCK) * roundUp(ws[1], Conv.BLOCK) * product(ws, 2) * 4;
                HeapPoison.poison(poison, padded, paddedW);
                Tensor out = run(s, x, w, b);
                if (Conv.channelsLast() && s.kind() != ConvShape.Kind.CONV2D && s.groups() == 1
                        && Conv.oneDnnSafe(s.inputChannelsPerGroup(), s.groups()) && out.size(1) > 1) {
                    assertThat(Conv.isChannelsLast(out)).as("%s gives its output channels-last", s).isTrue();
                }
                Tensor y = out.to(torch.ScalarType.Float).contiguous();
                double[] ref = reference(s, floats(x), xs, floats(w), ws, floats(b));
                float[] got = TensorArrays.floats(y);
                assertThat(got).as("output size of %s", s).hasSize(ref.length);
                double maxRef = 0;
                double maxErr = 0;
                for (int i = 0; i < ref.length; i++) {
                    assertThat(Float.isFinite(got[i])).as("%s, heap poisoned with %s: output %d is %s", s, poison,
                            i, got[i]).isTrue();
                    maxRef = Math.max(maxRef, Math.abs(ref[i]));
                    maxErr = Math.max(maxErr, Math.abs(ref[i] - got[i]));
                }
                double tol = (dt == torch.ScalarType.Float ? 1e-4 : 2e-2) * (1 + maxRef);
                assertThat(maxErr).as("%s, heap poisoned with %s", s, poison).isLessThanOrEqualTo(tol);
            }
        }
    }

    /**
     * A shape's random input, weight and bias in its dtype (seeded by the shape; weights scaled by the fan-in), made
     * in the caller's pointer scope.
     */
    private record Operands(torch.ScalarType type, long[] xs, long[] ws, Tensor x, Tensor w, Tensor b) {
        static Operands random(ConvShape s) {
            Generator g = torch.createCPUGenerator(s.hashCode());
            torch.ScalarType dt = s.dtype().equals("BFloat16") ? torch.ScalarType.BFloat16 : torch.ScalarType.Float;
            long[] xs = s.input().stream().mapToLong(Long::longValue).toArray();
            long[] ws = s.weight().stream().mapToLong(Long::longValue).toArray();
            long fanIn = s.inputChannelsPerGroup() * ws[2] * (ws.length == 4 ? ws[3] : 1);
            Tensor x = randn(g, xs, 1.0).to(dt);
            Tensor w = randn(g, ws, 1.0 / Math.sqrt(fanIn)).to(dt);
            long outCh = s.kind() == ConvShape.Kind.CONV_TRANSPOSE1D ? ws[1] * s.groups() : ws[0];
            Tensor b = randn(g, new long[] {outCh}, 0.1).to(dt);
            return new Operands(dt, xs, ws, x, w, b);
        }
    }

    private static Tensor run(ConvShape s, Tensor x, Tensor w, Tensor b) {
        return switch (s.kind()) {
            case CONV1D -> Conv.conv1d(x, w, b, s.stride().get(0), s.padding().get(0), s.dilation().get(0),
                    s.groups());
            case CONV_TRANSPOSE1D -> Conv.convTranspose1d(x, w, b, s.stride().get(0), s.padding().get(0),
                    s.stride().get(1), s.groups(), s.dilation().get(0));
            case CONV2D -> Conv.conv2d(x, w, b, longs(s.stride()), longs(s.padding()), longs(s.dilation()));
        };
    }

    // ---- the double-precision reference ----

    static double[] reference(ConvShape s, float[] x, long[] xs, float[] w, long[] ws, float[] b) {
        return switch (s.kind()) {
            case CONV1D -> conv1dRef(x, xs, w, ws, b, s.stride().get(0), s.padding().get(0),
                    s.dilation().get(0), s.groups());
            case CONV_TRANSPOSE1D -> convT1dRef(x, xs, w, ws, b, s.stride().get(0), s.padding().get(0),
                    s.stride().get(1), s.dilation().get(0), s.groups());
            case CONV2D -> conv2dRef(x, xs, w, ws, b, longs(s.stride()), longs(s.padding()), longs(s.dilation()));
        };
    }

    static double[] conv1dRef(float[] x, long[] xs, float[] w, long[] ws, float[] b, long st, long pad, long dil,
                              long groups) {
        int batch = (int) xs[0];
        int cin = (int) xs[1];
        int len = (int) xs[2];
        int cout = (int) ws[0];
        int cpg = (int) ws[1];
        int k = (int) ws[2];
        int opg = cout / (int) groups;
        int lout = (int) ((len + 2 * pad - dil * (k - 1) - 1) / st + 1);
        double[] y = new double[batch * cout * lout];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < cout; o++) {
                int g = o / opg;
                for (int t = 0; t < lout; t++) {
                    double acc = b[o];
                    for (int c = 0; c < cpg; c++) {
                        int xc = g * cpg + c;
                        for (int j = 0; j < k; j++) {
                            long p = t * st + j * dil - pad;
                            if (p >= 0 && p < len) {
                                acc += (double) w[(o * cpg + c) * k + j] * x[(n * cin + xc) * len + (int) p];
                            }
                        }
                    }
                    y[(n * cout + o) * lout + t] = acc;
                }
            }
        }
        return y;
    }

    static double[] convT1dRef(float[] x, long[] xs, float[] w, long[] ws, float[] b, long st, long pad, long outPad,
                               long dil, long groups) {
        int batch = (int) xs[0];
        int cin = (int) xs[1];
        int len = (int) xs[2];
        int opg = (int) ws[1];
        int k = (int) ws[2];
        int ipg = cin / (int) groups;
        int cout = opg * (int) groups;
        int lout = (int) ((len - 1) * st - 2 * pad + dil * (k - 1) + outPad + 1);
        double[] y = new double[batch * cout * lout];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < cout; o++) {
                for (int t = 0; t < lout; t++) {
                    y[(n * cout + o) * lout + t] = b[o];
                }
            }
            for (int i = 0; i < cin; i++) {
                int g = i / ipg;
                for (int l = 0; l < len; l++) {
                    double xv = x[(n * cin + i) * len + l];
                    for (int o = 0; o < opg; o++) {
                        for (int j = 0; j < k; j++) {
                            long t = l * st - pad + j * dil;
                            if (t >= 0 && t < lout) {
                                y[(n * cout + g * opg + o) * lout + (int) t] += xv * w[(i * opg + o) * k + j];
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    static double[] conv2dRef(float[] x, long[] xs, float[] w, long[] ws, float[] b, long[] st, long[] pad,
                              long[] dil) {
        int batch = (int) xs[0];
        int cin = (int) xs[1];
        int h = (int) xs[2];
        int wd = (int) xs[3];
        int cout = (int) ws[0];
        int kh = (int) ws[2];
        int kw = (int) ws[3];
        int hout = (int) ((h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / st[0] + 1);
        int wout = (int) ((wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) / st[1] + 1);
        double[] y = new double[batch * cout * hout * wout];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < cout; o++) {
                for (int a = 0; a < hout; a++) {
                    for (int c2 = 0; c2 < wout; c2++) {
                        double acc = b[o];
                        for (int c = 0; c < cin; c++) {
                            for (int i = 0; i < kh; i++) {
                                long r = a * st[0] + i * dil[0] - pad[0];
                                if (r < 0 || r >= h) {
                                    continue;
                                }
                                for (int j = 0; j < kw; j++) {
                                    long q = c2 * st[1] + j * dil[1] - pad[1];
                                    if (q >= 0 && q < wd) {
                                        acc += (double) w[((o * cin + c) * kh + i) * kw + j]
                                                * x[((n * cin + c) * h + (int) r) * wd + (int) q];
                                    }
                                }
                            }
                        }
                        y[((n * cout + o) * hout + a) * wout + c2] = acc;
                    }
                }
            }
        }
        return y;
    }

    // ---- recording runs ----

    private static void runTinyGoldenPipeline(Path tmp) throws Exception {
        Path in = tmp.resolve("conds_in.safetensors");
        try (var ve = Golden.load("ve.safetensors"); var ref = Golden.load("embed_ref.safetensors");
             PointerScope scope = new PointerScope()) {
            SafeTensorsWriter.write(in, Map.of("in.wav24k", ref.tensor("in.wav24k"),
                    "in.wav16k", ve.tensor("in.wav16k")));
        }
        CondsComponent.run(Golden.ckpt(), in, tmp.resolve("conds_out.safetensors"));
        E2eComponent.run(Golden.ckpt(), Golden.dir().resolve("e2e.safetensors"), tmp.resolve("e2e_out.safetensors"));
    }

    private static void runTurboSizedParts(Path tmp) throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(7);
            RandomParams params = new RandomParams(11);
            try (HiFTGenerator hift = HiFTGenerator.load(params, HiftConfig.turbo())) {
                hift.vocode(randn(g, new long[] {1, 80, 24}, 1.0), 3);
            }
            for (torch.ScalarType dt : List.of(torch.ScalarType.Float, torch.ScalarType.BFloat16)) {
                try (S3GenFlow flow = S3GenFlow.random(S3GenConfig.turbo(), 5, dt)) {
                    long p = 6;
                    long n = 8;
                    Tensor tokens = torch.randint(0, 6561, new long[] {1, n}, new GeneratorOptional(g),
                            new TensorOptions(torch.ScalarType.Long));
                    Tensor prompt = torch.randint(0, 6561, new long[] {1, p}, new GeneratorOptional(g),
                            new TensorOptions(torch.ScalarType.Long));
                    Tensor feat = randn(g, new long[] {1, 2 * p, 80}, 1.0);
                    Tensor emb = randn(g, new long[] {1, 192}, 1.0);
                    flow.inference(tokens, prompt, feat, emb, flow.noise(p, n, 1));
                }
            }
            Path camp = tmp.resolve("campplus_turbo.safetensors");
            Map<String, Tensor> weights = new LinkedHashMap<>();
            CampPlus.stateDictShapes(CampPlusConfig.turbo()).forEach((k, shape) -> {
                Tensor t = params.take(k, shape);
                weights.put(k, k.endsWith("running_var") ? t.abs().add(new Scalar(0.5)) : t);
            });
            SafeTensorsWriter.write(camp, weights);
            try (StateDict sd = StateDict.open(camp, Device.cpu());
                 CampPlus model = new CampPlus(sd.sub("speaker_encoder"), CampPlusConfig.turbo())) {
                model.forward(randn(g, new long[] {1, 120, 80}, 1.0));
            }
            Files.deleteIfExists(camp);
        }
    }

    /** The S3 tokenizer's convolutions at Turbo size (AudioEncoderV2 conv1/conv2, the FSMN depthwise memory). */
    private static List<ConvShape> s3TokenizerTurboShapes() {
        S3TokenizerConfig c = S3TokenizerConfig.turbo();
        long mels = c.nMels();
        long state = c.nAudioState();
        long k = c.fsmnKernel();
        return List.of(
                new ConvShape(ConvShape.Kind.CONV1D, List.of(1L, mels, 200L), List.of(state, mels, 3L), List.of(2L),
                        List.of(1L), List.of(1L), 1, "Float"),
                new ConvShape(ConvShape.Kind.CONV1D, List.of(1L, state, 100L), List.of(state, state, 3L),
                        List.of(2L), List.of(1L), List.of(1L), 1, "Float"),
                new ConvShape(ConvShape.Kind.CONV1D, List.of(1L, state, 50L + k - 1), List.of(state, 1L, k),
                        List.of(1L), List.of(0L), List.of(1L), state, "Float"));
    }

    /** One shape per distinct layer (ignoring the input length), its length capped so the loop stays fast. */
    private static List<ConvShape> dedupe(List<ConvShape> all) {
        return dedupe(all, true);
    }

    /** One shape per layer, at its longest length ({@code capped}: at most {@link #MAX_MACS} multiply-adds). */
    private static List<ConvShape> dedupe(List<ConvShape> all, boolean capped) {
        Map<String, ConvShape> byLayer = new TreeMap<>();
        for (ConvShape s : all) {
            List<Long> in = s.input();
            String key = s.kind() + " " + in.subList(0, in.size() - 1) + " " + s.weight() + " " + s.stride() + " "
                    + s.padding() + " " + s.dilation() + " " + s.groups() + " " + s.dtype();
            byLayer.merge(key, capped ? capped(s) : s, (a, b) -> a.input().get(a.input().size() - 1)
                    >= b.input().get(b.input().size() - 1) ? a : b);
        }
        List<ConvShape> out = new ArrayList<>(byLayer.values());
        out.sort(Comparator.comparing(ConvShape::toString));
        return out;
    }

    private static ConvShape capped(ConvShape s) {
        List<Long> in = new ArrayList<>(s.input());
        long perPosition = Math.max(1, s.weight().stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b)
                * in.get(0) * (in.size() == 4 ? in.get(2) : 1));
        long last = in.get(in.size() - 1);
        long minLen = s.weight().get(s.weight().size() - 1) * s.dilation().get(s.dilation().size() - 1) + 1;
        long cap = Math.max(minLen, MAX_MACS / perPosition);
        in.set(in.size() - 1, Math.min(last, cap));
        return new ConvShape(s.kind(), in, s.weight(), s.stride(), s.padding(), s.dilation(), s.groups(), s.dtype());
    }

    // ---- small helpers ----

    private static Tensor randn(Generator g, long[] shape, double scale) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(torch.ScalarType.Float))
                .mul(new Scalar(scale));
    }

    private static float[] floats(Tensor t) {
        return TensorArrays.floats(t.to(torch.ScalarType.Float).contiguous());
    }

    private static long[] longs(List<Long> l) {
        return l.stream().mapToLong(Long::longValue).toArray();
    }

    private static long roundUp(long v, long block) {
        return (v + block - 1) / block * block;
    }

    private static long product(long[] a, int from) {
        long p = 1;
        for (int i = from; i < a.length; i++) {
            p *= a[i];
        }
        return p;
    }
}
