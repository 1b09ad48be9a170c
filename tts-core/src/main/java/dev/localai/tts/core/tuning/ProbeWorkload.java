package dev.localai.tts.core.tuning;

import dev.localai.tts.core.nn.Bf16Attention;
import dev.localai.tts.core.nn.DecoderBlockKernel;
import dev.localai.tts.core.nn.Fp32Attention;
import dev.localai.tts.core.nn.Int8Matrix;
import dev.localai.tts.core.nn.KvType;
import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.Weights;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The weight-type probe's workload ({@link DtypeProbe}): its weights and inputs in one dtype, made in the caller's
 * pointer scope, and what it times with them: a T3 decode step ({@link #LAYERS} GPT-2 medium layers at Turbo's
 * sizes with their single-query attention), a flow block ({@link #FLOW_FRAMES} frames of the S3Gen estimator's
 * transformer block and convolution) and the intra-op thread workload; plus the int8 candidates' decode steps and
 * every candidate's error against fp32.
 */
record ProbeWorkload(List<Tensor[]> layers, Tensor x, Tensor inner, Tensor[] flowW, Tensor flowX, Tensor convX,
                     Tensor[] outs, boolean attentionInFp32, Tensor kv, Tensor hiftW, Tensor hiftX,
                     boolean onednnLinear) {
    /** Decode-step layers: copies of one, so their weights come from memory as T3's do in real decoding. */
    static final int LAYERS = 4;
    /** Frames of the probe's flow block. */
    static final long FLOW_FRAMES = 300;
    static final long D = 1024;
    static final long QKV = 3 * D;
    static final long INNER = 4 * D;
    static final long C = 256;
    static final Scalar ONE = new Scalar(1.0);

    static ProbeWorkload random() {
        List<Tensor[]> layers = new java.util.ArrayList<>();
        layers.add(new Tensor[] {w(QKV, D), w(D, D), w(INNER, D), w(D, INNER), w(QKV), w(D), w(INNER), w(D)});
        for (int i = 1; i < LAYERS; i++) { // copies of the first: their own memory, as T3's layers, made faster
            layers.add(Arrays.stream(layers.get(0)).map(t -> t.clone()).toArray(Tensor[]::new));
        }
        // to_q, to_k, to_v (512, 256), to_out (256, 512), ff in (1024, 256), ff out (256, 1024), conv (256, 512, 3)
        Tensor[] flow = {w(2 * C, C), w(2 * C, C), w(2 * C, C), w(C, 2 * C), w(4 * C, C), w(C, 4 * C),
            w(C, 2 * C, 3)};
        return new ProbeWorkload(layers, torch.randn(D), torch.randn(INNER), flow, torch.randn(1, FLOW_FRAMES, C),
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

    ProbeWorkload to(ScalarType t) {
        List<Tensor[]> l = layers.stream().map(ws -> to(ws, t)).toList();
        return new ProbeWorkload(l, x.to(t), inner.to(t), to(flowW, t), flowX.to(t), convX.to(t), outs(t), false,
                kv.to(t), hiftW, hiftX, false);
    }

    /** The same products with the flow block's attention computed in fp32 (as the flow's estimator can). */
    ProbeWorkload withAttentionInFp32() {
        return new ProbeWorkload(layers, x, inner, flowW, flowX, convX, outs, true, kv, hiftW, hiftX, false);
    }

    /** The same fp32 products with the flow block's linear layers on oneDNN ({@code nn.Linear}'s other kernel). */
    ProbeWorkload withOnednnLinear() {
        return new ProbeWorkload(layers, x, inner, flowW, flowX, convX, outs, false, kv, hiftW, hiftX, true);
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
        if (!attentionInFp32 && Bf16Attention.takes(qr, kr, vr, 8)) {
            // as the flow's blocks attend where the kernel runs (BasicTransformerBlock's rule)
            a = Bf16Attention.attend(qr, kr, vr, 8, 0.125);
        } else if (Fp32Attention.takes(qr, kr, vr, 8)) {
            a = Fp32Attention.attend(qr, kr, vr, 8, 0.125);
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
        return Linear.linear(in, w, null, onednnLinear);
    }

    /** The first layer's products and the flow block, for the error against fp32. */
    Tensor[] run() {
        Tensor[] w = layers.get(0);
        return new Tensor[] {torch.addmv(w[4], w[0], x), torch.addmv(w[7], w[3], inner), flowOut()};
    }


    /** An int8 candidate's decode step and its error against fp32. */
    record Int8Step(Runnable step, double error) {}

    /**
     * int8 weights (T3 only): the same decode-step products through {@link Int8Matrix} on
     * {@code kernel} (kept by {@code owner}), and their error against fp32 on the first layer's products.
     */
    static Int8Step int8Step(ProbeWorkload fp32, Tensor[] ref, Weights owner,
                             Int8Matrix.Kernel kernel) {
        List<Int8Matrix[]> layers = new java.util.ArrayList<>();
        for (Tensor[] w : fp32.layers()) {
            layers.add(new Int8Matrix[] {
                Int8Matrix.quantize(w[0], owner, kernel),
                Int8Matrix.quantize(w[1], owner, kernel),
                Int8Matrix.quantize(w[2], owner, kernel),
                Int8Matrix.quantize(w[3], owner, kernel)});
        }
        Tensor[] outs = fp32.outs();
        Runnable fused = fusedStep(fp32, layers);
        Runnable step = fused != null ? fused : () -> {
            for (int i = 0; i < layers.size(); i++) {
                Tensor[] w = fp32.layers().get(i);
                Int8Matrix[] q = layers.get(i);
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
     * ({@link DecoderBlockKernel}): layer norms, the four products, the attention over the
     * probe's cache (fp16 where T3's caches are) and the GELU, in place on a copy of the input; null where blocks do
     * not run so. A step of the other candidates is their four products and an attention: the fused step does at least
     * the same work.
     */
    private static Runnable fusedStep(ProbeWorkload fp32, List<Int8Matrix[]> layers) {
        if (!DecoderBlockKernel.enabled()) {
            return null;
        }
        long d = ProbeWorkload.D;
        LayerNorm ln = LayerNorm.of(torch.ones(d), torch.zeros(d),
                1e-5);
        List<DecoderBlockKernel> blocks = new java.util.ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Int8Matrix[] q = layers.get(i);
            Tensor[] w = fp32.layers().get(i);
            DecoderBlockKernel b = DecoderBlockKernel.of(ln, q[0],
                    w[4], q[1], w[5], ln, q[2], w[6], q[3], w[7], (int) (d / 64), 1e-5);
            if (b == null) {
                return null;
            }
            blocks.add(b);
        }
        KvType type = DecoderBlockKernel.cacheType();
        Tensor[] kv = kvCache(fp32.kv(), type);
        int cached = (int) fp32.kv().size(1);
        long[] k = {kv[0].data_ptr().address()};
        long[] v = {kv[1].data_ptr().address()};
        int[] capacity = {cached};
        int[] pos = {cached - 1};
        Tensor x = torch.empty(1, d);
        return () -> {
            x.copy_(fp32.x().view(1, d));
            for (DecoderBlockKernel b : blocks) {
                b.step(x, 1, k, v, capacity, pos, type);
            }
        };
    }

    /**
     * kv (2 * 16 heads, positions, 64) fp32 as the native kernels' caches of {@code type}: the keys' layer and the
     * values' (an int8 layer's row scales after its values; only the speed of reading them matters here).
     */
    private static Tensor[] kvCache(Tensor kv, KvType type) {
        long heads = kv.size(0) / 2;
        Tensor[] layers = new Tensor[2];
        for (int i = 0; i < 2; i++) {
            Tensor part = kv.narrow(0, i * heads, heads);
            if (type != KvType.INT8) {
                layers[i] = part.to(type == KvType.FP16 ? ScalarType.Half : ScalarType.Float)
                        .contiguous();
                continue;
            }
            layers[i] = torch.empty(new long[] {type.layerBytes(heads * kv.size(1), kv.size(2))},
                    new org.bytedeco.pytorch.TensorOptions(ScalarType.Char), null);
            KvType.int8Values(layers[i], heads, kv.size(1), kv.size(2)).copy_(
                    part.mul(new Scalar(40.0)).round_().clamp_(
                            new org.bytedeco.pytorch.ScalarOptional(new Scalar(-127.0)),
                            new org.bytedeco.pytorch.ScalarOptional(new Scalar(127.0))));
            KvType.int8Scales(layers[i], heads, kv.size(1), kv.size(2))
                    .fill_(new Scalar(1.0 / 40));
        }
        return layers;
    }

    static double relativeError(Tensor[] got, Tensor[] ref) {
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
}
