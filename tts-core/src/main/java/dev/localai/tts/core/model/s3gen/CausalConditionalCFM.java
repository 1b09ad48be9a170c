package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.OnDevice;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The flow-matching solver of S3Gen ({@code flow.decoder}) in its mean-flow form, as Turbo runs it: t_span =
 * linspace(0, 1, n+1) with no cosine warp, plain Euler x += (r - t) * estimator(x, mu, spks, cond, t, r) over the
 * consecutive (t, r) pairs, no classifier-free guidance. The starting noise x0 is an input covering all frames,
 * the prompt frames included.
 */
final class CausalConditionalCFM {
    final ConditionalDecoder estimator;

    CausalConditionalCFM(ParamSource p, S3GenConfig c) {
        this.estimator = new ConditionalDecoder(p.sub("estimator"), c);
    }

    /**
     * z, mu, cond: (1, 80, T); spks (1, 80). Returns x1 (1, 80, T) in the dtype of the inputs, after {@code steps}
     * Euler steps over linspace(0, 1, steps + 1) (upstream's {@code n_cfm_timesteps}; {@link S3GenFlow#inference}
     * checks {@code steps >= 1} before any work).
     */
    Tensor forward(Tensor z, Tensor mu, Tensor spks, Tensor cond, int steps, FlowTrace trace) {
        return Scopes.run(() -> {
            Tensor tSpan = torch.linspace(new Scalar(0.0), new Scalar(1.0), steps + 1,
                    new TensorOptions(torch.ScalarType.Float));
            float[] ts = new float[steps + 1];
            tSpan.data_ptr_float().get(ts);
            Tensor x = z;
            Tensor span = OnDevice.of(tSpan, z); // the time grid where the estimator runs
            for (int i = 0; i < steps; i++) {
                Tensor t = span.narrow(0, i, 1);
                Tensor r = span.narrow(0, i + 1, 1);
                Tensor emb = estimator.timeEmbedding(t, r, z.scalar_type());
                Tensor v = estimator.forward(x, mu, spks, cond, emb);
                trace.estimatorOut(i, v);
                float dt = ts[i + 1] - ts[i];
                x = x.add(v.mul(new Scalar(dt)));
            }
            return x;
        });
    }
}
