package dev.localai.tts.core.voice.campplus;

import dev.localai.tts.core.nn.Conv;
import dev.localai.tts.core.checkpoint.StateDict;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One dense layer of a CAM block ({@code xvector.blockB.tdnndN}): BN + ReLU, 1x1 conv to the bottleneck, BN + ReLU,
 * then the context-aware masking layer ({@code cam_layer}). Its output (growth-rate channels) is concatenated to its
 * input by the block.
 */
final class CamDenseTdnnLayer implements AutoCloseable {
    /** Segment length of CAM's segment pooling, in frames. */
    static final long SEG_LEN = 100;

    final BatchNorm nonlinear1;
    final Tensor linear1Weight;
    final BatchNorm nonlinear2;
    final Tensor camLinearLocalWeight; // cam_layer.linear_local.weight [growth, bn, 3]
    final Tensor camLinear1Weight;     // cam_layer.linear1 [bn/2, bn, 1] + bias
    final Tensor camLinear1Bias;
    final Tensor camLinear2Weight;     // cam_layer.linear2 [growth, bn/2, 1] + bias
    final Tensor camLinear2Bias;
    private final long dilation;

    CamDenseTdnnLayer(StateDict sd, long inChannels, CampPlusConfig c, long dilation) {
        long bn = c.bottleneck();
        long g = c.growthRate();
        this.dilation = dilation;
        this.nonlinear1 = new BatchNorm(sd.sub("nonlinear1.batchnorm"), inChannels, true);
        this.linear1Weight = sd.take("linear1.weight", bn, inChannels, 1);
        this.nonlinear2 = new BatchNorm(sd.sub("nonlinear2.batchnorm"), bn, true);
        this.camLinearLocalWeight = sd.take("cam_layer.linear_local.weight", g, bn, CampPlusConfig.KERNEL);
        this.camLinear1Weight = sd.take("cam_layer.linear1.weight", bn / 2, bn, 1);
        this.camLinear1Bias = sd.take("cam_layer.linear1.bias", bn / 2);
        this.camLinear2Weight = sd.take("cam_layer.linear2.weight", g, bn / 2, 1);
        this.camLinear2Bias = sd.take("cam_layer.linear2.bias", g);
    }

    static void shapes(Map<String, long[]> m, String p, long inChannels, CampPlusConfig c) {
        long bn = c.bottleneck();
        long g = c.growthRate();
        BatchNorm.shapes(m, p + ".nonlinear1.batchnorm", inChannels, true);
        m.put(p + ".linear1.weight", new long[] {bn, inChannels, 1});
        BatchNorm.shapes(m, p + ".nonlinear2.batchnorm", bn, true);
        m.put(p + ".cam_layer.linear_local.weight", new long[] {g, bn, CampPlusConfig.KERNEL});
        m.put(p + ".cam_layer.linear1.weight", new long[] {bn / 2, bn, 1});
        m.put(p + ".cam_layer.linear1.bias", new long[] {bn / 2});
        m.put(p + ".cam_layer.linear2.weight", new long[] {g, bn / 2, 1});
        m.put(p + ".cam_layer.linear2.bias", new long[] {g});
    }

    /** @param x (B, C_in, T); returns (B, growth, T). */
    Tensor forward(Tensor x) {
        Tensor h = torch.relu(nonlinear1.forward(x));
        h = conv1d(h, linear1Weight, null, 0, 1);
        h = torch.relu(nonlinear2.forward(h));
        // context-aware masking
        Tensor y = conv1d(h, camLinearLocalWeight, null, dilation, dilation);
        Tensor context = h.mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()).add(segPooling(h));
        Tensor a = torch.relu(conv1d(context, camLinear1Weight, camLinear1Bias, 0, 1));
        Tensor mask = torch.sigmoid(conv1d(a, camLinear2Weight, camLinear2Bias, 0, 1));
        return y.mul(mask);
    }

    /** Mean over consecutive 100-frame segments (the last one partial), broadcast back to every frame. */
    static Tensor segPooling(Tensor x) {
        long t = x.size(2);
        Tensor seg = torch.avg_pool1d(x, new long[] {SEG_LEN}, new long[] {SEG_LEN}, new long[] {0}, true, true);
        long[] s = seg.shape();                                          // (B, C, S)
        Tensor expanded = seg.unsqueeze(-1).expand(s[0], s[1], s[2], SEG_LEN).reshape(s[0], s[1], s[2] * SEG_LEN);
        return expanded.narrow(2, 0, t);
    }

    static Tensor conv1d(Tensor x, Tensor w, Tensor b, long pad, long dilation) {
        return Conv.conv1d(x, w, b, 1, pad, dilation, 1);
    }

    @Override
    public void close() {
        nonlinear1.close();
        linear1Weight.close();
        nonlinear2.close();
        camLinearLocalWeight.close();
        camLinear1Weight.close();
        camLinear1Bias.close();
        camLinear2Weight.close();
        camLinear2Bias.close();
    }
}
