package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.OnDevice;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The encoder's input layer ({@code embed} / {@code up_embed}): {@code out.0} Linear, {@code out.1} LayerNorm (eps 1e-5),
 * then the positional module's x-scale sqrt(d) (applied after the LayerNorm); also yields the relative position table.
 */
final class LinearNoSubsampling {
    /** key {@code out.0} */
    final Linear out0;
    /** key {@code out.1} */
    final LayerNorm out1;
    private final long dModel;
    private final double xscale;

    LinearNoSubsampling(ParamSource p, long idim, long odim) {
        this.out0 = new Linear(p.sub("out.0"), idim, odim, true);
        this.out1 = new LayerNorm(p.sub("out.1"), odim, 1e-5);
        this.dModel = odim;
        this.xscale = Math.sqrt(odim);
    }

    /** x: (B, T, idim) -> (B, T, odim) scaled. */
    Tensor forward(Tensor x) {
        return Scopes.run(() -> out1.forward(out0.forward(x)).mul(new Scalar(xscale)));
    }

    /** The (1, 2T-1, d) relative position table for T frames, in {@code like}'s dtype. */
    Tensor posEmb(long t, Tensor like) {
        Tensor table = OnDevice.of(EspnetRelPositionalEncoding.table(t, dModel), like);
        if (table.scalar_type() != like.scalar_type()) {
            return table.to(like.scalar_type());
        }
        return table;
    }

    static void shapes(Map<String, long[]> m, String prefix, long idim, long odim) {
        Linear.shapes(m, prefix + ".out.0", idim, odim, true);
        LayerNorm.shapes(m, prefix + ".out.1", odim);
    }
}
