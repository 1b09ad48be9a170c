package dev.localai.tts.core.voice.s3tokenizer;

import dev.localai.tts.core.nn.Conv;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * S3 tokenizer encoder ({@code tokenizer.encoder}): two stride-2 Conv1d (k3, p1) with exact GELU (4x time
 * down-sampling: 100 Hz mel frames to 25 Hz), then the residual attention blocks with rotary positions.
 */
final class AudioEncoderV2 {
    /** Rotary positions precomputed upstream (a hard-coded table of 2 * 1024 positions, head dim 64). */
    static final int ROPE_POSITIONS = 2048;

    final Tensor conv1Weight;
    final Tensor conv1Bias;
    final Tensor conv2Weight;
    final Tensor conv2Bias;
    final ResidualAttentionBlock[] blocks;
    private final Tensor cos; // (2048, 64)
    private final Tensor sin; // (2048, 64)

    AudioEncoderV2(ParamSource params, S3TokenizerConfig c) {
        long s = c.nAudioState();
        this.conv1Weight = params.take("conv1.weight", s, c.nMels(), 3);
        this.conv1Bias = params.take("conv1.bias", s);
        this.conv2Weight = params.take("conv2.weight", s, s, 3);
        this.conv2Bias = params.take("conv2.bias", s);
        this.blocks = new ResidualAttentionBlock[c.nAudioLayer()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new ResidualAttentionBlock(params.sub("blocks." + i), c);
        }
        Tensor[] table = ropeTable(S3TokenizerConfig.HEAD_DIM, ROPE_POSITIONS);
        try (org.bytedeco.pytorch.Device dev = params.device().torchDevice()) {
            this.cos = params.keep(table[0].to(dev, torch.ScalarType.Float));
            this.sin = params.keep(table[1].to(dev, torch.ScalarType.Float));
        }
        table[0].close();
        table[1].close();
    }

    static void shapes(Map<String, long[]> m, String p, S3TokenizerConfig c) {
        long s = c.nAudioState();
        m.put(p + ".conv1.weight", new long[] {s, c.nMels(), 3});
        m.put(p + ".conv1.bias", new long[] {s});
        m.put(p + ".conv2.weight", new long[] {s, s, 3});
        m.put(p + ".conv2.bias", new long[] {s});
        for (int i = 0; i < c.nAudioLayer(); i++) {
            ResidualAttentionBlock.shapes(m, p + ".blocks." + i, c);
        }
    }

    /**
     * cos and sin tables (positions, dim): angle(p, j) = p / 10000^(2j/dim) for j < dim/2, duplicated to dim,
     * evaluated in float32 the way upstream builds them.
     */
    static Tensor[] ropeTable(int dim, int positions) {
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            Tensor j = torch.arange(new Scalar(0), new Scalar(dim), new Scalar(2)).narrow(0, 0, dim / 2)
                    .to(torch.ScalarType.Float).div(new Scalar((double) dim));
            Tensor freqs = torch.pow(new Scalar(10000.0), j).reciprocal();
            Tensor t = torch.arange(new Scalar(positions)).to(torch.ScalarType.Float);
            Tensor angles = torch.outer(t, freqs);                                 // (positions, dim/2)
            Tensor cos = torch.cat(new org.bytedeco.pytorch.TensorVector(angles.cos(), angles.cos()), 1).contiguous();
            Tensor sin = torch.cat(new org.bytedeco.pytorch.TensorVector(angles.sin(), angles.sin()), 1).contiguous();
            cos.retainReference();
            sin.retainReference();
            return new Tensor[] {cos, sin};
        }
    }

    /**
     * @param mel (B, n_mels, T)
     * @return hidden states (B, ceil(T/4), state)
     */
    Tensor forward(Tensor mel) {
        Tensor x = torch.gelu(Conv.conv1d(mel, conv1Weight, conv1Bias, 2, 1, 1, 1));
        x = torch.gelu(Conv.conv1d(x, conv2Weight, conv2Bias, 2, 1, 1, 1));
        x = x.permute(0, 2, 1);                                                   // (B, T', state)
        long t = x.size(1);
        if (t > ROPE_POSITIONS) {
            throw new IllegalArgumentException("S3 tokenizer input too long: " + t + " tokens > " + ROPE_POSITIONS);
        }
        Tensor c = cos.narrow(0, 0, t).unsqueeze(0).unsqueeze(2);                 // (1, T', 1, 64)
        Tensor s = sin.narrow(0, 0, t).unsqueeze(0).unsqueeze(2);
        for (ResidualAttentionBlock block : blocks) {
            Tensor in = x;
            x = Scopes.run(() -> block.forward(in, c, s)); // its temporaries freed as each block is done
        }
        return x;
    }
}
