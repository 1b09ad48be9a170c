package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.nn.Conv1d;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.LinkedHashMap;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * HiFi-GAN residual block with Snake activations: for each dilation d,
 * {@code x += convs2[j](snake2[j](convs1[j](snake1[j](x))))} where convs1 is dilated by d and convs2 is not.
 */
final class ResBlock {
    final Conv1d[] convs1;
    /** How many samples either side of an output sample its input reaches (the convolutions' padding). */
    final int radius;
    final Conv1d[] convs2;
    final Snake[] activations1;
    final Snake[] activations2;

    ResBlock(ParamSource src, int channels, int kernel, List<Integer> dilations) {
        int n = dilations.size();
        int r = 0;
        for (int d : dilations) {
            r += (kernel - 1) / 2 * d + (kernel - 1) / 2;
        }
        this.radius = r;
        convs1 = new Conv1d[n];
        convs2 = new Conv1d[n];
        activations1 = new Snake[n];
        activations2 = new Snake[n];
        for (int j = 0; j < n; j++) {
            int d = dilations.get(j);
            convs1[j] = Conv1d.weightNormed(src.sub("convs1." + j), channels, channels, kernel, 1,
                    (kernel * d - d) / 2, d);
            convs2[j] = Conv1d.weightNormed(src.sub("convs2." + j), channels, channels, kernel, 1,
                    (kernel - 1) / 2, 1);
        }
        for (int j = 0; j < n; j++) {
            activations1[j] = new Snake(src.sub("activations1." + j), channels);
        }
        for (int j = 0; j < n; j++) {
            activations2[j] = new Snake(src.sub("activations2." + j), channels);
        }
    }

    static void shapes(LinkedHashMap<String, long[]> m, String p, int channels, int kernel, int nDilations) {
        for (int j = 0; j < nDilations; j++) {
            Conv1d.weightNormedShapes(m, p + ".convs1." + j, channels, channels, kernel);
        }
        for (int j = 0; j < nDilations; j++) {
            Conv1d.weightNormedShapes(m, p + ".convs2." + j, channels, channels, kernel);
        }
        for (int j = 0; j < nDilations; j++) {
            m.put(p + ".activations1." + j + ".alpha", new long[] {channels});
        }
        for (int j = 0; j < nDilations; j++) {
            m.put(p + ".activations2." + j + ".alpha", new long[] {channels});
        }
    }

    /**
     * x -> the block's output. Each dilation's four temporaries are freed as soon as it is done: at the last level
     * of a streamed 64-frame window each is about 8 MB, and kept to the window's end they made the vocoder's working
     * set several hundred MB (docs/performance.md, "Nineteenth round").
     */
    Tensor forward(Tensor x) {
        return Scopes.run(() -> {
            Tensor y = x;
            for (int j = 0; j < convs1.length; j++) {
                int jj = j;
                Tensor in = y;
                y = Scopes.run(() -> {
                    Tensor xt = activations1[jj].forward(in);
                    xt = convs1[jj].forward(xt);
                    xt = activations2[jj].forward(xt);
                    xt = convs2[jj].forward(xt);
                    return xt.add_(in); // xt is this block's own new tensor
                });
            }
            return y;
        });
    }
}
