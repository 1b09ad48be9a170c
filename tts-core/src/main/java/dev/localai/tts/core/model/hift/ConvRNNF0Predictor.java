package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.Conv1d;
import static org.bytedeco.pytorch.global.torch.abs;
import static org.bytedeco.pytorch.global.torch.elu;

import java.util.LinkedHashMap;
import org.bytedeco.pytorch.Tensor;

/**
 * F0 predictor: {@code condnet} = 5 x [weight-normed Conv1d k3 pad1, ELU] (indices 0, 2, 4, 6, 8 hold the convs),
 * then {@code classifier} Linear(C, 1) per frame and |.|: mel (B, 80, T) to F0 in Hz (B, T).
 */
final class ConvRNNF0Predictor {
    final Conv1d[] condnet;
    final Linear classifier;

    ConvRNNF0Predictor(ParamSource src, HiftConfig cfg) {
        condnet = new Conv1d[cfg.f0Layers()];
        for (int i = 0; i < condnet.length; i++) {
            int in = i == 0 ? cfg.inChannels() : cfg.f0CondChannels();
            condnet[i] = Conv1d.weightNormed(src.sub("condnet." + (2 * i)), in, cfg.f0CondChannels(), 3, 1, 1, 1);
        }
        classifier = new Linear(src.sub("classifier"), cfg.f0CondChannels(), 1, true);
    }

    static void shapes(LinkedHashMap<String, long[]> m, String p, HiftConfig cfg) {
        for (int i = 0; i < cfg.f0Layers(); i++) {
            int in = i == 0 ? cfg.inChannels() : cfg.f0CondChannels();
            Conv1d.weightNormedShapes(m, p + ".condnet." + (2 * i), in, cfg.f0CondChannels(), 3);
        }
        Linear.shapes(m, p + ".classifier", cfg.f0CondChannels(), 1, true);
    }

    /** mel (B, 80, T) to F0 (B, T). */
    Tensor forward(Tensor mel) {
        Tensor x = mel;
        for (Conv1d c : condnet) {
            x = elu(c.forward(x));
        }
        Tensor y = classifier.forward(x.transpose(1, 2)); // (B, T, 1)
        return abs(y.squeeze(-1));
    }
}
