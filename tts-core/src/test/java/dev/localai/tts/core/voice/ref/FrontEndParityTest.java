package dev.localai.tts.core.voice.ref;

import dev.localai.tts.core.audio.MelFilterbank;
import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.campplus.KaldiFbank;
import dev.localai.tts.core.voice.s3tokenizer.S3LogMel;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Parity of the audio front-ends against the upstream goldens (tiny profile). */
class FrontEndParityTest {
    @BeforeAll
    static void init() {
        Torch.init(1);
    }

    @Test
    void slaneyFiltersMatchTheCheckpointsS3TokenizerFilters() {
        try (StateDict sd = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu())) {
            try (Tensor stored = sd.take("tokenizer._mel_filters", 128, 201);
                 Tensor ours = Tensor.create(MelFilterbank.slaneyFlat(16000, 400, 128, 0.0, 8000.0), 128, 201)) {
                assertThat(Golden.maxAbsDiff(stored, ours)).isLessThan(1e-7);
            }
        }
    }

    @Test
    void s3LogMelMatchesGolden() {
        try (SafeTensors g = Golden.load("s3tokenizer.safetensors");
             StateDict sd = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
             Tensor window = sd.take("tokenizer.window", 400);
             Tensor filters = sd.take("tokenizer._mel_filters", 128, 201);
             Tensor wav = g.tensor("in.wav16k");
             Tensor expected = g.tensor("mid.log_mel");
             Tensor mel = S3LogMel.compute(wav, window, filters)) {
            assertThat(Golden.maxAbsDiff(expected, mel)).isLessThan(1e-5);
        }
    }

    @Test
    void kaldiFbankMatchesGolden() {
        try (SafeTensors g = Golden.load("campplus.safetensors");
             KaldiFbank fbank = new KaldiFbank();
             Tensor wav = g.tensor("in.wav16k");
             Tensor expected = g.tensor("mid.fbank_meannorm");
             Tensor f = fbank.meanNormalized(wav)) {
            assertThat(Golden.maxAbsDiff(expected, f.unsqueeze(0))).isLessThan(1e-4);
        }
    }

    @Test
    void resamplerMatchesTorchaudio() {
        try (SafeTensors g = Golden.load("embed_ref.safetensors");
             SincResampler rs = new SincResampler(24000, 16000);
             Tensor wav = g.tensor("in.wav24k");
             Tensor expected = g.tensor("mid.wav_resampled_16k");
             Tensor out = rs.apply(wav.unsqueeze(0))) {
            assertThat(Golden.maxAbsDiff(expected, out)).isLessThan(1e-6);
        }
    }

    @Test
    void mel24MatchesGolden() {
        try (SafeTensors g = Golden.load("embed_ref.safetensors");
             S3GenMel mel = new S3GenMel();
             Tensor wav = g.tensor("in.wav24k");
             Tensor expected = g.tensor("mid.mel24");
             Tensor out = mel.apply(wav)) {
            assertThat(Golden.maxAbsDiff(expected, out)).isLessThan(1e-4);
        }
    }
}
