package dev.localai.tts.core.voice.campplus;

import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.nn.BatchNorm;
import dev.localai.tts.core.nn.Conv;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import dev.localai.tts.core.nn.Weights;
import java.util.LinkedHashMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * CAMPPlus speaker x-vector network, S3Gen's {@code speaker_encoder} (prefix {@code speaker_encoder.} in
 * {@code s3gen_meanflow.safetensors}): 16 kHz audio to a 192-d embedding (not L2-normalised here).
 *
 * <p>Mean-normalised Kaldi fbank (80) -> {@link Fcm} head -> {@code xvector}: TDNN (k5, stride 2) + BN + ReLU; three
 * densely connected CAM blocks (12 / 24 / 16 layers, dilation 1 / 2 / 2), each followed by a transit layer
 * (BN + ReLU + 1x1 conv halving channels); BN + ReLU; statistics pooling (mean and unbiased std over time);
 * dense 1x1 conv to 192 + BatchNorm without affine.
 */
public final class CampPlus implements AutoCloseable {
    final Fcm head;
    final Tensor tdnnLinearWeight;     // xvector.tdnn.linear.weight
    final BatchNorm tdnnNonlinear;     // xvector.tdnn.nonlinear.batchnorm
    final CamDenseTdnnLayer[][] blocks; // xvector.block{1,2,3}.tdnnd{n}
    final BatchNorm[] transitNonlinear; // xvector.transit{1,2,3}.nonlinear.batchnorm
    final Tensor[] transitLinearWeight; // xvector.transit{1,2,3}.linear.weight
    final BatchNorm outNonlinear;       // xvector.out_nonlinear.batchnorm
    final Tensor denseLinearWeight;     // xvector.dense.linear.weight
    final BatchNorm denseNonlinear;     // xvector.dense.nonlinear.batchnorm (affine=False)
    private final CampPlusConfig config;
    private final KaldiFbank fbank;
    private final Weights weights = new Weights();

    /** Loads from a view whose prefix is the speaker encoder's ({@code sd.sub("speaker_encoder")}). */
    public CampPlus(StateDict checkpoint, CampPlusConfig c) {
        ParamSource params = weights.track(ParamSource.of(checkpoint));
        this.config = c;
        this.head = new Fcm(params.sub("head"), c);
        ParamSource xv = params.sub("xvector");
        long channels = c.initChannels();
        this.tdnnLinearWeight = xv.take("tdnn.linear.weight", channels, c.headOutChannels(), 5);
        this.tdnnNonlinear = new BatchNorm(xv.sub("tdnn.nonlinear.batchnorm"), channels, true);
        int nb = CampPlusConfig.BLOCK_LAYERS.length;
        this.blocks = new CamDenseTdnnLayer[nb][];
        this.transitNonlinear = new BatchNorm[nb];
        this.transitLinearWeight = new Tensor[nb];
        for (int b = 0; b < nb; b++) {
            int layers = CampPlusConfig.BLOCK_LAYERS[b];
            blocks[b] = new CamDenseTdnnLayer[layers];
            for (int n = 0; n < layers; n++) {
                blocks[b][n] = new CamDenseTdnnLayer(xv.sub("block" + (b + 1) + ".tdnnd" + (n + 1)),
                        channels + (long) n * c.growthRate(), c, CampPlusConfig.BLOCK_DILATIONS[b]);
            }
            channels += (long) layers * c.growthRate();
            String t = "transit" + (b + 1);
            transitNonlinear[b] = new BatchNorm(xv.sub(t + ".nonlinear.batchnorm"), channels, true);
            transitLinearWeight[b] = xv.take(t + ".linear.weight", channels / 2, channels, 1);
            channels /= 2;
        }
        this.outNonlinear = new BatchNorm(xv.sub("out_nonlinear.batchnorm"), channels, true);
        this.denseLinearWeight = xv.take("dense.linear.weight", c.embeddingSize(), channels * 2, 1);
        this.denseNonlinear = new BatchNorm(xv.sub("dense.nonlinear.batchnorm"), c.embeddingSize(), false);
        this.fbank = new KaldiFbank(c.featDim());
    }

    public CampPlusConfig config() {
        return config;
    }

    /** Every key (with the file's {@code speaker_encoder.} prefix) and its shape, in a stable order. */
    public static LinkedHashMap<String, long[]> stateDictShapes(CampPlusConfig c) {
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        String p = "speaker_encoder";
        Fcm.shapes(m, p + ".head", c);
        String x = p + ".xvector";
        long channels = c.initChannels();
        m.put(x + ".tdnn.linear.weight", new long[] {channels, c.headOutChannels(), 5});
        BatchNorm.shapes(m, x + ".tdnn.nonlinear.batchnorm", channels, true);
        for (int b = 0; b < CampPlusConfig.BLOCK_LAYERS.length; b++) {
            int layers = CampPlusConfig.BLOCK_LAYERS[b];
            for (int n = 0; n < layers; n++) {
                CamDenseTdnnLayer.shapes(m, x + ".block" + (b + 1) + ".tdnnd" + (n + 1),
                        channels + (long) n * c.growthRate(), c);
            }
            channels += (long) layers * c.growthRate();
            String t = x + ".transit" + (b + 1);
            BatchNorm.shapes(m, t + ".nonlinear.batchnorm", channels, true);
            m.put(t + ".linear.weight", new long[] {channels / 2, channels, 1});
            channels /= 2;
        }
        BatchNorm.shapes(m, x + ".out_nonlinear.batchnorm", channels, true);
        m.put(x + ".dense.linear.weight", new long[] {c.embeddingSize(), channels * 2, 1});
        BatchNorm.shapes(m, x + ".dense.nonlinear.batchnorm", c.embeddingSize(), false);
        return m;
    }

    /** Mean-normalised Kaldi fbank of a 16 kHz clip, (T, 80); caller owns it. */
    public Tensor features(Tensor wav16k) {
        try (PointerScope scope = new PointerScope()) {
            Tensor f;
            try (org.bytedeco.pytorch.Device dev = tdnnLinearWeight.device()) {
                f = fbank.meanNormalized(wav16k.to(dev, torch.ScalarType.Float));
            }
            f.retainReference();
            return f;
        }
    }

    /** x-vector of a 16 kHz clip (L) or (1, L): (1, 192); caller owns it. */
    public Tensor embed(Tensor wav16k) {
        try (PointerScope scope = new PointerScope()) {
            Tensor f = features(wav16k);
            Tensor out = forward(f.unsqueeze(0));
            out.retainReference();
            f.close();
            return out;
        }
    }

    /** @param feats (B, T, F) mean-normalised fbank; returns (B, 192). */
    public Tensor forward(Tensor feats) {
        try (PointerScope scope = new PointerScope()) {
            Tensor out = forwardInScope(feats);
            out.retainReference();
            return out;
        }
    }

    /** {@link #forward} with the result and what it keeps alive left in the caller's scope. */
    Tensor forwardInScope(Tensor feats) {
        Tensor x = head.forward(feats.permute(0, 2, 1));                        // (B, C*F/8, T)
        x = Conv.conv1d(x, tdnnLinearWeight, null, 2, 2, 1, 1);
        x = torch.relu(tdnnNonlinear.forward(x));
        // each dense layer's temporaries, and each block's growing concatenations, freed as they are done: kept
        // to the end, a 12 s clip's clone held some 450 MB more at its peak (docs/performance.md, "Nineteenth
        // round")
        for (int b = 0; b < blocks.length; b++) {
            int block = b;
            Tensor in = x;
            x = Scopes.run(() -> {
                Tensor y = in;
                for (CamDenseTdnnLayer layer : blocks[block]) {
                    Tensor cur = y;
                    y = Scopes.run(() -> torch.cat(new TensorVector(cur, layer.forward(cur)), 1));
                }
                y = torch.relu(transitNonlinear[block].forward(y));
                return CamDenseTdnnLayer.conv1d(y, transitLinearWeight[block], null, 0, 1);
            });
        }
        x = torch.relu(outNonlinear.forward(x));
        Tensor mean = x.mean(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor std = x.std(new long[] {-1}, true, false);
        Tensor stats = torch.cat(new TensorVector(mean, std), -1);             // (B, 2C)
        Tensor emb = CamDenseTdnnLayer.conv1d(stats.unsqueeze(-1), denseLinearWeight, null, 0, 1).squeeze(-1);
        return denseNonlinear.forward(emb).contiguous();
    }

    @Override
    public void close() {
        weights.close();
        fbank.close();
    }

}
