package dev.localai.tts.core.audio.encode;

/**
 * Bitrates of the lossy formats.
 *
 * @param mp3Bitrate  bits per second of mp3 (LAME CBR)
 * @param opusBitrate bits per second of Opus
 * @param aacBitrate  bits per second of AAC-LC
 */
public record EncoderSettings(int mp3Bitrate, int opusBitrate, int aacBitrate) {
    /** 64 kb/s mp3, 32 kb/s Opus, 64 kb/s AAC: transparent enough for 24 kHz mono speech. */
    public static final EncoderSettings DEFAULT = new EncoderSettings(64_000, 32_000, 64_000);

    public EncoderSettings {
        if (mp3Bitrate < 8_000 || opusBitrate < 6_000 || aacBitrate < 8_000) {
            throw new IllegalArgumentException("bitrate too low: " + mp3Bitrate + "/" + opusBitrate + "/" + aacBitrate);
        }
    }
}
