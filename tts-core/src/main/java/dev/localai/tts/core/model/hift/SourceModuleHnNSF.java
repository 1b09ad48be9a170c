package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Linear;
import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.sin;
import static org.bytedeco.pytorch.global.torch.tanh;

import java.util.LinkedHashMap;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Harmonic-plus-noise excitation (SineGen + merge). Given F0 per output sample (B, 1, L):
 * <ul>
 *   <li>per harmonic k = 1..H the phase increment is {@code f0 * k / sr} (float32), the running phase is the cumulative
 *       sum of increments accumulated in double and rounded to float32 at each sample, then taken mod 1;</li>
 *   <li>{@code sine = alpha * sin(2 pi * frac + phi_k)} with a random initial phase phi (phi_1 = 0);</li>
 *   <li>{@code uv = f0 > threshold}; {@code noise = (uv sigma + (1 - uv) alpha / 3) * n}, n ~ N(0, 1);</li>
 *   <li>{@code sine_waves = sine * uv + noise}; source = tanh(l_linear(sine_waves)).</li>
 * </ul>
 * The cumulative phase is carried in a {@link PhaseState} so a stream of chunks gives the same phases as one call.
 */
final class SourceModuleHnNSF {
    final Linear l_linear;
    private final HiftConfig cfg;
    private final Tensor harmonicNumbers; // (1, H, 1) float 1..H

    SourceModuleHnNSF(ParamSource src, HiftConfig cfg) {
        this.cfg = cfg;
        l_linear = new Linear(src.sub("l_linear"), cfg.harmonics(), 1, true);
        harmonicNumbers = src.keep(org.bytedeco.pytorch.global.torch.arange(new Scalar(1), new Scalar(cfg.harmonics() + 1))
                .to(ScalarType.Float).to(l_linear.weight.device(), ScalarType.Float).reshape(1, cfg.harmonics(), 1));
    }

    static void shapes(LinkedHashMap<String, long[]> m, String p, HiftConfig cfg) {
        Linear.shapes(m, p + ".l_linear", cfg.harmonics(), 1, true);
    }

    /**
     * The running (double) phase accumulator per harmonic, shape (1, H, 1) float64; null before the first sample.
     */
    static final class PhaseState {
        Tensor acc;

        void set(Tensor t) {
            if (acc != null) {
                acc.releaseReference();
            }
            t.retainReference();
            acc = t;
        }

        void release() {
            if (acc != null) {
                acc.releaseReference();
                acc = null;
            }
        }
    }

    /**
     * Sine waves with noise, (1, H, L).
     *
     * @param f0Up  F0 per sample (1, 1, L)
     * @param state carried phase accumulator (updated)
     * @param phase initial phases (1, H, 1)
     * @param noise standard normal (1, H, L)
     */
    Tensor sineWaves(Tensor f0Up, PhaseState state, Tensor phase, Tensor noise) {
        long len = f0Up.size(2);
        Tensor inc = f0Up.mul(harmonicNumbers).div(new Scalar((double) cfg.sampleRate())); // (1, H, L) float
        Tensor incD = inc.to(ScalarType.Double);
        Tensor cum;
        if (state.acc == null) {
            cum = incD.cumsum(2);
        } else {
            cum = cat(new TensorVector(state.acc, incD), 2).cumsum(2).narrow(2, 1, len);
        }
        state.set(cum.narrow(2, len - 1, 1).contiguous());
        Tensor frac = cum.to(ScalarType.Float).remainder(new Scalar(1.0));
        Tensor theta = frac.mul(new Scalar(2 * Math.PI));
        Tensor sine = sin(theta.add(phase)).mul(new Scalar(cfg.nsfAlpha()));
        Tensor uv = f0Up.gt(new Scalar(cfg.voicedThreshold())).to(ScalarType.Float);
        Tensor unvoiced = uv.neg().add(new Scalar(1.0)); // 1 - uv
        Tensor noiseAmp = uv.mul(new Scalar(cfg.nsfSigma()))
                .add(unvoiced.mul(new Scalar(cfg.nsfAlpha())).div(new Scalar(3.0)));
        return sine.mul(uv).add(noiseAmp.mul(noise));
    }

    /** Merged excitation (1, 1, L) from sine waves (1, H, L). */
    Tensor merge(Tensor sineWaves) {
        Tensor y = tanh(l_linear.forward(sineWaves.transpose(1, 2))); // (1, L, 1)
        return y.transpose(1, 2);
    }
}
