package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Conv1d;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Look-ahead convolution before the conformer layers: right-pad L zeros, conv1 (k = L+1), leaky ReLU (0.01),
 * left-pad 2 zeros, conv2 (k = 3), plus the residual. Input and output (B, T, C).
 */
final class PreLookaheadLayer {
    final Conv1d conv1;
    final Conv1d conv2;

    PreLookaheadLayer(ParamSource p, long channels, int lookahead) {
        this.conv1 = Conv1d.padded(p.sub("conv1"), channels, channels, lookahead + 1, 0, lookahead);
        this.conv2 = Conv1d.padded(p.sub("conv2"), channels, channels, 3, 2, 0);
    }

    Tensor forward(Tensor x) {
        return Scopes.run(() -> {
            Tensor y = x.transpose(1, 2).contiguous();
            y = torch.leaky_relu(conv1.forward(y), new Scalar(0.01));
            y = conv2.forward(y).transpose(1, 2);
            return y.add(x);
        });
    }

    static void shapes(Map<String, long[]> m, String prefix, long channels, int lookahead) {
        Conv1d.shapes(m, prefix + ".conv1", channels, channels, lookahead + 1);
        Conv1d.shapes(m, prefix + ".conv2", channels, channels, 3);
    }
}
