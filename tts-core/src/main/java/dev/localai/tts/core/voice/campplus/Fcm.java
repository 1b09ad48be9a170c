package dev.localai.tts.core.voice.campplus;

import dev.localai.tts.core.nn.BatchNorm;
import dev.localai.tts.core.nn.Conv;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * CAMPPlus front convolution module ({@code speaker_encoder.head}): a 2-D ResNet over (frequency, time).
 * conv1 3x3 + BN + ReLU; layer1 and layer2 of two BasicResBlocks each, the first strided 2 in frequency with a
 * 1x1 strided conv + BN shortcut; conv2 3x3 stride (2,1) + BN + ReLU. 80 bins become 10; channels and frequency are
 * flattened to (B, C * F/8, T).
 */
final class Fcm {
    final Tensor conv1Weight;
    final BatchNorm bn1;
    final BasicResBlock[] layer1;
    final BasicResBlock[] layer2;
    final Tensor conv2Weight;
    final BatchNorm bn2;

    Fcm(ParamSource params, CampPlusConfig c) {
        long m = c.headChannels();
        this.conv1Weight = params.take("conv1.weight", m, 1, 3, 3);
        this.bn1 = new BatchNorm(params.sub("bn1"), m, true);
        this.layer1 = new BasicResBlock[] {new BasicResBlock(params.sub("layer1.0"), m, 2), new BasicResBlock(params.sub("layer1.1"), m, 1)};
        this.layer2 = new BasicResBlock[] {new BasicResBlock(params.sub("layer2.0"), m, 2), new BasicResBlock(params.sub("layer2.1"), m, 1)};
        this.conv2Weight = params.take("conv2.weight", m, m, 3, 3);
        this.bn2 = new BatchNorm(params.sub("bn2"), m, true);
    }

    static void shapes(Map<String, long[]> map, String p, CampPlusConfig c) {
        long m = c.headChannels();
        map.put(p + ".conv1.weight", new long[] {m, 1, 3, 3});
        BatchNorm.shapes(map, p + ".bn1", m, true);
        for (String layer : new String[] {"layer1", "layer2"}) {
            BasicResBlock.shapes(map, p + "." + layer + ".0", m, 2);
            BasicResBlock.shapes(map, p + "." + layer + ".1", m, 1);
        }
        map.put(p + ".conv2.weight", new long[] {m, m, 3, 3});
        BatchNorm.shapes(map, p + ".bn2", m, true);
    }

    /** @param x (B, F, T) features; returns (B, C * F/8, T). */
    Tensor forward(Tensor x) {
        Tensor out = torch.relu(bn1.forward(conv2d(x.unsqueeze(1), conv1Weight, 1)));
        for (BasicResBlock b : layer1) {
            out = b.forward(out);
        }
        for (BasicResBlock b : layer2) {
            out = b.forward(out);
        }
        out = torch.relu(bn2.forward(conv2d(out, conv2Weight, 2)));
        long[] s = out.shape();
        return out.reshape(s[0], s[1] * s[2], s[3]);
    }

    static Tensor conv2d(Tensor x, Tensor w, long freqStride) {
        long k = w.size(2);
        long pad = k == 3 ? 1 : 0;
        return Conv.conv2d(x, w, null, new long[] {freqStride, 1}, new long[] {pad, pad}, new long[] {1, 1});
    }

    /** 2-D residual block with two 3x3 convs; stride applies to frequency only. */
    static final class BasicResBlock {
        final Tensor conv1Weight;
        final BatchNorm bn1;
        final Tensor conv2Weight;
        final BatchNorm bn2;
        final Tensor shortcut0Weight; // shortcut.0 (1x1 conv), null for identity
        final BatchNorm shortcut1;    // shortcut.1 (BN)
        private final long stride;

        BasicResBlock(ParamSource params, long planes, long stride) {
            this.stride = stride;
            this.conv1Weight = params.take("conv1.weight", planes, planes, 3, 3);
            this.bn1 = new BatchNorm(params.sub("bn1"), planes, true);
            this.conv2Weight = params.take("conv2.weight", planes, planes, 3, 3);
            this.bn2 = new BatchNorm(params.sub("bn2"), planes, true);
            if (stride != 1) {
                this.shortcut0Weight = params.take("shortcut.0.weight", planes, planes, 1, 1);
                this.shortcut1 = new BatchNorm(params.sub("shortcut.1"), planes, true);
            } else {
                this.shortcut0Weight = null;
                this.shortcut1 = null;
            }
        }

        static void shapes(Map<String, long[]> m, String p, long planes, long stride) {
            m.put(p + ".conv1.weight", new long[] {planes, planes, 3, 3});
            BatchNorm.shapes(m, p + ".bn1", planes, true);
            m.put(p + ".conv2.weight", new long[] {planes, planes, 3, 3});
            BatchNorm.shapes(m, p + ".bn2", planes, true);
            if (stride != 1) {
                m.put(p + ".shortcut.0.weight", new long[] {planes, planes, 1, 1});
                BatchNorm.shapes(m, p + ".shortcut.1", planes, true);
            }
        }

        /** Its temporaries (32 channels by 80 or 40 bins by the clip's frames: 5-10 MB each) freed before it returns. */
        Tensor forward(Tensor x) {
            return Scopes.run(() -> {
                Tensor out = torch.relu(bn1.forward(conv2d(x, conv1Weight, stride)));
                out = bn2.forward(conv2d(out, conv2Weight, 1));
                Tensor sc = shortcut0Weight == null ? x : shortcut1.forward(conv2d(x, shortcut0Weight, stride));
                return torch.relu(out.add(sc));
            });
        }
    }
}
