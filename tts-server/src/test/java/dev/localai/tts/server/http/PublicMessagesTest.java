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
    void aboutTheModelALocalDirectoryIsNamedButNotShown() {
        String dir = "/root/.cache/localai-tts/random-turbo-0";
        assertThat(PublicMessages.aboutTheModel("loading " + dir, dir, "f")).isEqualTo("loading the model directory");
        assertThat(PublicMessages.aboutTheModel("the model could not be loaded from /srv/models/turbo: "
                + "model directory /srv/models/turbo has no t3_turbo_v1.safetensors", "/srv/models/turbo", "f"))
                .isEqualTo("the model could not be loaded from the model directory: the model directory has no "
                        + "t3_turbo_v1.safetensors");
        // another path is not the model's
        assertThat(PublicMessages.aboutTheModel("revision 'main' of a/b is not in the local cache "
                + "/root/.cache/huggingface/hub/models--a--b. Run `tts download` once", "a/b", "f"))
                .isEqualTo("revision 'main' of a/b is not in the local cache a path on the server. Run `tts "
                        + "download` once");
        // a repo id is not a path, and the model's file names are not the voice library's
        assertThat(PublicMessages.aboutTheModel("loading ResembleAI/chatterbox-turbo@main",
                "ResembleAI/chatterbox-turbo@main", "f")).isEqualTo("loading ResembleAI/chatterbox-turbo@main");
        assertThat(PublicMessages.aboutTheModel("the model could not be loaded from x/y: "
                + "java.io.UncheckedIOException: boom", "x/y", "f")).isEqualTo("the model could not be loaded from x/y");
        assertThat(PublicMessages.aboutTheModel(null, dir, "fallback")).isEqualTo("fallback");
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
