package dev.localai.tts.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PublicMessagesTest {
    @Test
    void ffmpegInternalsAndStagingPathsAreDropped() {
        String raw = "cannot store voice 'x': cannot open /srv/voices/.staging-3f2a9c1e-0b7d-4c55-9a51-1b2c3d4e5f60/"
                + "clip.bin as audio: avformat_open_input() error -1094995529: Could not open input "
                + "\"/srv/voices/.staging-3f2a9c1e/clip.bin\". (Has setFormat() been called?)";
        String m = PublicMessages.clean(raw, "fallback");
        assertThat(m).isEqualTo("cannot store voice 'x': cannot open the uploaded file as audio");
    }

    @Test
    void internalFileNamesAndClassNamesAreDropped() {
        assertThat(PublicMessages.clean("clip.bin has no audio stream", "f")).isEqualTo("the clip has no audio stream");
        assertThat(PublicMessages.clean("failed: java.io.UncheckedIOException: boom", "f")).isEqualTo("failed");
        assertThat(PublicMessages.clean("org.bytedeco.javacv.FrameGrabber$Exception: x", "f")).isEqualTo("f");
        assertThat(PublicMessages.clean("C:\\Users\\me\\voices\\a\\clip.wav is unreadable", "f"))
                .isEqualTo("the uploaded file is unreadable");
    }

    @Test
    void ordinaryMessagesStay() {
        assertThat(PublicMessages.clean("the clip is shorter than 5 seconds", "f"))
                .isEqualTo("the clip is shorter than 5 seconds");
        assertThat(PublicMessages.clean("model ResembleAI/chatterbox-turbo is not loaded", "f"))
                .isEqualTo("model ResembleAI/chatterbox-turbo is not loaded");
        assertThat(PublicMessages.clean(null, "fallback")).isEqualTo("fallback");
        assertThat(PublicMessages.clean("  ", "fallback")).isEqualTo("fallback");
    }
}
