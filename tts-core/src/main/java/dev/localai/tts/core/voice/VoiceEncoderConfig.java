package dev.localai.tts.core.voice;

import java.util.LinkedHashMap;

/**
 * Hyper-parameters of the LSTM speaker encoder that gives T3 its speaker embedding (upstream {@code VoiceEncConfig}
 * plus the defaults {@code embeds_from_wavs} uses). The tiny golden profile keeps the official sizes.
 *
 * @param sampleRate     input rate (16 kHz)
 * @param numMels        mel bands (40)
 * @param nFft           STFT size (400)
 * @param hop            STFT hop (160)
 * @param fMin           lowest mel frequency (0)
 * @param fMax           highest mel frequency (8000)
 * @param hidden         LSTM width (256)
 * @param layers         LSTM layers (3)
 * @param embedding      embedding size (256)
 * @param partialFrames  frames per partial utterance (160)
 * @param rate           partials per second used to derive the frame step (1.3 gives 77 frames)
 * @param minCoverage    minimum coverage of the last partial (0.8)
 * @param trimTopDb      silence threshold for leading/trailing trimming, dB below the peak RMS frame (20)
 * @param finalRelu      ReLU after the projection (true)
 */
public record VoiceEncoderConfig(int sampleRate, int numMels, int nFft, int hop, double fMin, double fMax,
        int hidden, int layers, int embedding, int partialFrames, double rate, double minCoverage,
        double trimTopDb, boolean finalRelu) {

    public VoiceEncoderConfig {
        if (sampleRate <= 0 || numMels <= 0 || nFft <= 0 || hop <= 0 || hidden <= 0 || layers <= 0
                || embedding <= 0 || partialFrames <= 0 || rate <= 0 || !(minCoverage > 0 && minCoverage <= 1)) {
            throw new IllegalArgumentException("invalid VoiceEncoderConfig");
        }
    }

    /** Official sizes (Chatterbox Turbo {@code ve.safetensors}). */
    public static VoiceEncoderConfig turbo() {
        return new VoiceEncoderConfig(16_000, 40, 400, 160, 0.0, 8000.0, 256, 3, 256, 160, 1.3, 0.8, 20.0, true);
    }

    /** The golden tiny profile: the voice encoder is not shrunk there. */
    public static VoiceEncoderConfig tiny() {
        return turbo();
    }

    /** Frames between two partial utterances: {@code round(sampleRate / rate / partialFrames)} (77). */
    public int frameStep() {
        int step = (int) Math.rint(sampleRate / rate / partialFrames);
        if (step <= 0 || step > partialFrames) {
            throw new IllegalStateException("bad frame step " + step);
        }
        return step;
    }

    /**
     * Every key and shape of {@code ve.safetensors}, in a stable order.
     */
    public static LinkedHashMap<String, long[]> stateDictShapes(VoiceEncoderConfig c) {
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        long g = 4L * c.hidden();
        for (int l = 0; l < c.layers(); l++) {
            m.put("lstm.weight_ih_l" + l, new long[] {g, l == 0 ? c.numMels() : c.hidden()});
            m.put("lstm.weight_hh_l" + l, new long[] {g, c.hidden()});
            m.put("lstm.bias_ih_l" + l, new long[] {g});
            m.put("lstm.bias_hh_l" + l, new long[] {g});
        }
        m.put("proj.weight", new long[] {c.embedding(), c.hidden()});
        m.put("proj.bias", new long[] {c.embedding()});
        m.put("similarity_weight", new long[] {1});
        m.put("similarity_bias", new long[] {1});
        return m;
    }
}
