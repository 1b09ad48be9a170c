package dev.localai.tts.core.voice.s3tokenizer;

import dev.localai.tts.core.nn.Conv;
import dev.localai.tts.core.checkpoint.StateDict;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Multi-head self-attention with rotary positions on q and k and an FSMN memory on v ({@code blocks.N.attn}).
 *
 * <p>q = query(x), k = key(x) (no bias), v = value(x); heads of 64. RoPE uses the rotate-half convention
 * ({@code x*cos + [-x2, x1]*sin}). q and k are each scaled by 64^-1/4 before the product; softmax over keys.
 * The FSMN memory is {@code v + depthwise_conv31(v)} (zero padding 15 / 15). Output: {@code out(attn) + memory}.
 */
final class FsmnMultiHeadAttention implements AutoCloseable {
    final Linear query;
    final Linear key;
    final Linear value;
    final Linear out;
    final Tensor fsmnBlockWeight; // fsmn_block.weight [state, 1, kernel]
    private final int nHead;
    private final int kernel;

    FsmnMultiHeadAttention(StateDict sd, S3TokenizerConfig c) {
        long s = c.nAudioState();
        this.query = new Linear(sd.sub("query"), s, s, true);
        this.key = new Linear(sd.sub("key"), s, s, false);
        this.value = new Linear(sd.sub("value"), s, s, true);
        this.out = new Linear(sd.sub("out"), s, s, true);
        this.fsmnBlockWeight = sd.take("fsmn_block.weight", s, 1, c.fsmnKernel());
        this.nHead = c.nAudioHead();
        this.kernel = c.fsmnKernel();
    }

    static void shapes(Map<String, long[]> m, String p, S3TokenizerConfig c) {
        long s = c.nAudioState();
        Linear.shapes(m, p + ".query", s, s, true);
        Linear.shapes(m, p + ".key", s, s, false);
        Linear.shapes(m, p + ".value", s, s, true);
        Linear.shapes(m, p + ".out", s, s, true);
        m.put(p + ".fsmn_block.weight", new long[] {s, 1, c.fsmnKernel()});
    }

    /**
     * @param x   (B, T, state)
     * @param cos (1, T, 1, 64)
     * @param sin (1, T, 1, 64)
     */
    Tensor forward(Tensor x, Tensor cos, Tensor sin) {
        long b = x.size(0);
        long t = x.size(1);
        long state = x.size(2);
        long d = state / nHead;
        Tensor q = query.forward(x).view(b, t, nHead, d);
        Tensor k = key.forward(x).view(b, t, nHead, d);
        Tensor vFlat = value.forward(x);                      // (B, T, state)
        Tensor v = vFlat.view(b, t, nHead, d);

        q = rope(q, cos, sin, d);
        k = rope(k, cos, sin, d);

        // FSMN memory over the (unrotated) values
        int left = (kernel - 1) / 2;
        int right = kernel - 1 - left;
        Tensor vt = torch.constant_pad_nd(vFlat.transpose(1, 2), left, right);
        Tensor mem = Conv.conv1d(vt, fsmnBlockWeight, null, 1, 0, 1, state).transpose(1, 2).add(vFlat);

        Scalar scale = new Scalar(Math.pow(d, -0.25));
        Tensor qh = q.permute(0, 2, 1, 3).mul(scale);         // (B, H, T, D)
        Tensor kh = k.permute(0, 2, 3, 1).mul(scale);         // (B, H, D, T)
        Tensor vh = v.permute(0, 2, 1, 3);                    // (B, H, T, D)
        Tensor w = torch.softmax(torch.matmul(qh, kh), -1);
        Tensor wv = torch.matmul(w, vh).permute(0, 2, 1, 3).reshape(b, t, state);
        return out.forward(wv).add(mem);
    }

    private static Tensor rope(Tensor x, Tensor cos, Tensor sin, long d) {
        long half = d / 2;
        Tensor rotated = torch.cat(new TensorVector(x.narrow(3, half, half).neg(), x.narrow(3, 0, half)), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    @Override
    public void close() {
        query.close();
        key.close();
        value.close();
        out.close();
        fsmnBlockWeight.close();
    }
}
