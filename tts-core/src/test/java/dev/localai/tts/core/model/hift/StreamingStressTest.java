package dev.localai.tts.core.model.hift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.TensorArrays;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The streaming vocoder 50 times, each with its own random chunking (1 to 30 frames per push) and context, on the
 * golden mel: every sample of every run is finite and within the output limit, and with the exact context every
 * run equals the whole-utterance vocoding (issue 12: streamed windows were where the NaN first showed).
 */
class StreamingStressTest {
    private static final int RUNS = 50;
    /** Mel frames streamed per run (0.6 s of audio): a few pushes of every size, cheap enough for 50 runs. */
    private static final long FRAMES = 30;
    static StateDict sd;
    static HiFTGenerator hift;
    static Tensor mel;
    static Tensor phase;
    static Tensor noise;

    @BeforeAll
    static void load() {
        Torch.init(2);
        sd = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
        hift = HiFTGenerator.load(sd, HiftConfig.tiny());
        try (SafeTensors g = Golden.load("hift.safetensors"); Tensor m = g.tensor("in.mel");
             Tensor p = g.tensor("in.sine_phase")) {
            mel = m.narrow(2, 0, Math.min(FRAMES, m.size(2))).clone();
            phase = p.clone();
        }
        Generator gen = torch.make_generator_cpu(11);
        noise = torch.randn(new long[] {1, 9, mel.size(2) * 480}, new GeneratorOptional(gen),
                new TensorOptions(ScalarType.Float));
    }

    @AfterAll
    static void close() {
        hift.close();
        sd.close();
    }

    @Test
    void fiftyRandomChunkingsStayFiniteAndExact() {
        float[] whole;
        try (PointerScope scope = new PointerScope();
             HiFTGenerator.Output out = hift.inference(mel, SourceNoise.of(phase, noise))) {
            whole = TensorArrays.floats(TrimFade.applyInPlace(out.wav().clone(), 0, 24000));
        }
        Random r = new Random(20261202L);
        int exact = HiftConfig.tiny().decoderRadiusFrames();
        int exactRuns = 0;
        for (int run = 0; run < RUNS; run++) {
            int context = r.nextInt(4) == 0 ? 1 + r.nextInt(exact) : exact;
            float[] got = streamed(r, context);
            for (int i = 0; i < got.length; i++) {
                assertThat(Float.isFinite(got[i])).as("run %d (context %d): sample %d is %s", run, context, i, got[i])
                        .isTrue();
                assertThat(Math.abs(got[i])).as("run %d sample %d", run, i).isLessThanOrEqualTo(1f);
            }
            assertThat(got).as("run %d length", run).hasSize(whole.length);
            if (context == exact) {
                exactRuns++;
                double maxErr = 0;
                for (int i = 0; i < got.length; i++) {
                    maxErr = Math.max(maxErr, Math.abs(got[i] - whole[i]));
                }
                assertThat(maxErr).as("run %d: exact stream vs whole", run).isLessThan(1e-5);
            }
        }
        assertThat(exactRuns).isGreaterThan(RUNS / 2);
    }

    private static float[] streamed(Random r, int context) {
        try (PointerScope scope = new PointerScope();
             HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true)) {
            TensorVector parts = new TensorVector();
            long pos = 0;
            while (pos < mel.size(2)) {
                long n = Math.min(1 + r.nextInt(30), mel.size(2) - pos);
                parts.push_back(s.push(mel.narrow(2, pos, n)));
                pos += n;
            }
            parts.push_back(s.finish());
            return TensorArrays.floats(torch.cat(parts, 1).contiguous());
        }
    }
}
