package dev.localai.tts.core.model.hift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class HiftParityTest {
    static StateDict sd;
    static HiFTGenerator hift;

    @BeforeAll
    static void load() {
        Torch.init(2);
        sd = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
        hift = HiFTGenerator.load(sd, HiftConfig.tiny());
    }

    @AfterAll
    static void close() {
        hift.close();
        sd.close();
    }

    @Test
    void stateDictShapesEqualGoldenCheckpoint() {
        LinkedHashMap<String, long[]> shapes = HiFTGenerator.stateDictShapes(HiftConfig.tiny());
        Map<String, String> expected = new TreeMap<>();
        try (SafeTensors f = SafeTensors.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"))) {
            for (String k : f.keys()) {
                if (k.startsWith("mel2wav.")) {
                    expected.put(k, java.util.Arrays.toString(f.info(k).shape()));
                }
            }
        }
        Map<String, String> actual = new TreeMap<>();
        shapes.forEach((k, v) -> actual.put(k, java.util.Arrays.toString(v)));
        assertThat(actual).isEqualTo(expected);
        assertThat(HiFTGenerator.stateDictShapes(HiftConfig.turbo())).hasSize(328);
    }

    @Test
    void loaderConsumesEveryMel2wavKey() {
        assertThat(sd.sub("mel2wav").unconsumedKeys()).isEmpty();
    }

    @Test
    void hiftGolden() {
        try (SafeTensors g = Golden.load("hift.safetensors");
             Tensor mel = g.tensor("in.mel");
             Tensor phase = g.tensor("in.sine_phase");
             Tensor noise = g.tensor("in.sine_noise_randn");
             Tensor f0Ref = g.tensor("mid.f0");
             Tensor srcRef = g.tensor("out.source");
             Tensor wavRef = g.tensor("out.wav");
             HiFTGenerator.Output out = hift.inference(mel, SourceNoise.of(phase, noise))) {
            double f0Err = Golden.maxAbsDiff(out.f0(), f0Ref);
            double srcErr = Golden.maxAbsDiff(out.source(), srcRef);
            double wavErr = Golden.maxAbsDiff(out.wav(), wavRef);
            double snr = Golden.snrDb(wavRef, out.wav());
            System.out.printf("hift golden: f0 %.3g source %.3g wav %.3g snr %.1f dB%n", f0Err, srcErr, wavErr, snr);
            assertThat(f0Err).isLessThan(1e-4);
            assertThat(srcErr).isLessThan(1e-5);
            assertThat(wavErr).isLessThan(1e-4);
            assertThat(snr).isGreaterThan(60);
        }
    }

    /**
     * The golden holds in the channels-last layout too (the engine's choice where the probe measured it faster): the
     * tiny vocoder's 32- and 16-channel levels then run channels-last (its 8-channel level stays on the reference
     * kernels), and the waveform stays within 1e-5 of the default layout's.
     */
    @Test
    void hiftGoldenChannelsLast() {
        boolean before = dev.localai.tts.core.nn.Conv.channelsLast();
        try (SafeTensors g = Golden.load("hift.safetensors");
             Tensor mel = g.tensor("in.mel");
             Tensor phase = g.tensor("in.sine_phase");
             Tensor noise = g.tensor("in.sine_noise_randn");
             Tensor wavRef = g.tensor("out.wav");
             HiFTGenerator.Output contiguous = hift.inference(mel, SourceNoise.of(phase, noise))) {
            dev.localai.tts.core.nn.Conv.useChannelsLast(true);
            try (HiFTGenerator.Output out = hift.inference(mel, SourceNoise.of(phase, noise))) {
                double wavErr = Golden.maxAbsDiff(out.wav(), wavRef);
                double layoutDiff = Golden.maxAbsDiff(out.wav(), contiguous.wav());
                System.out.printf("hift golden channels-last: wav %.3g, against the default layout %.3g%n", wavErr,
                        layoutDiff);
                assertThat(wavErr).isLessThan(1e-4);
                assertThat(layoutDiff).isLessThan(1e-5);
                assertThat(Golden.snrDb(wavRef, out.wav())).isGreaterThan(60);
            }
        } finally {
            dev.localai.tts.core.nn.Conv.useChannelsLast(before);
        }
    }

    @Test
    void s3genVocoderPart() {
        try (SafeTensors g = Golden.load("s3gen.safetensors");
             Tensor mel = g.tensor("out.mel");
             Tensor phase = g.tensor("in.sine_phase");
             Tensor noise = g.tensor("in.sine_noise_randn");
             Tensor f0Ref = g.tensor("mid.f0");
             Tensor srcRef = g.tensor("out.source");
             Tensor wavRef = g.tensor("out.wav");
             HiFTGenerator.Output out = hift.inference(mel, SourceNoise.of(phase, noise))) {
            Tensor wav = TrimFade.applyInPlace(out.wav(), 0, 24000);
            double f0Err = Golden.maxAbsDiff(out.f0(), f0Ref);
            double srcErr = Golden.maxAbsDiff(out.source(), srcRef);
            double wavErr = Golden.maxAbsDiff(wav, wavRef);
            double snr = Golden.snrDb(wavRef, wav);
            System.out.printf("s3gen hift part: f0 %.3g source %.3g wav %.3g snr %.1f dB%n", f0Err, srcErr, wavErr, snr);
            assertThat(f0Err).isLessThan(1e-4);
            assertThat(srcErr).isLessThan(1e-4);
            assertThat(wavErr).isLessThan(1e-4);
            assertThat(snr).isGreaterThan(60);
        }
    }

    @Test
    void phaseFromUniformMatchesUpstreamMapping() {
        try (SafeTensors g = Golden.load("s3gen.safetensors");
             Tensor raw = g.tensor("in.sine_rand_raw");
             Tensor phase = g.tensor("in.sine_phase");
             Tensor mine = SourceNoise.phaseFromUniform(raw.clone())) {
            assertThat(Golden.maxAbsDiff(mine, phase)).isLessThan(1e-6);
        }
    }
}
