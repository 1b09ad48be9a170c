package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.audio.AudioDecoder;
import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.MonoAudio;
import dev.localai.tts.core.audio.WavWriter;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * {@link MallocTrimGuard}: JavaCPP's {@code Pointer.trimMemory()} becomes a counted no-op, and JavaCV's releases (an
 * FFmpeg encode, an FFmpeg decode) reach it instead of glibc's {@code malloc_trim(0)}.
 */
class MallocTrimGuardTest {

    @Test
    void javacppsTrimMemoryOnlyCountsOnceInstalled() {
        assumeTrue(NativeKernels.available(), "native kernels not loaded");
        assertThat(MallocTrimGuard.install()).isTrue();
        assertThat(MallocTrimGuard.install()).as("a second install changes nothing").isTrue();
        assertThat(MallocTrimGuard.installed()).isTrue();
        long before = MallocTrimGuard.skipped();
        for (int i = 0; i < 3; i++) {
            assertThat(Pointer.trimMemory()).isFalse();
        }
        assertThat(MallocTrimGuard.skipped()).isEqualTo(before + 3);
    }

    @Test
    void ffmpegEncodesAndDecodesNoLongerTrimTheHeap() {
        assumeTrue(NativeKernels.available(), "native kernels not loaded");
        assertThat(MallocTrimGuard.install()).isTrue();
        float[] tone = new float[24_000];
        for (int i = 0; i < tone.length; i++) {
            tone[i] = (float) (0.3 * Math.sin(2 * Math.PI * 220 * i / 24_000.0));
        }
        long before = MallocTrimGuard.skipped();
        byte[] mp3 = AudioEncoders.encode(AudioFormat.MP3, tone, 24_000); // JavaCV's recorder, released
        long afterEncode = MallocTrimGuard.skipped();
        MonoAudio back = AudioDecoder.decode(WavWriter.pcm16(tone, 24_000)); // JavaCV's grabber, released
        long afterDecode = MallocTrimGuard.skipped();
        assertThat(mp3.length).isGreaterThan(1000);
        assertThat(back.samples().length).isEqualTo(tone.length);
        assertThat(afterEncode).as("the recorder's release asked for a trim").isGreaterThan(before);
        assertThat(afterDecode).as("the grabber's release asked for a trim").isGreaterThan(afterEncode);
    }

    @Test
    void thePropertyKeepsJavacppsTrimming() {
        assertThat(MallocTrimGuard.keepsTrimming("true")).isTrue();
        assertThat(MallocTrimGuard.keepsTrimming(" TRUE ")).isTrue();
        assertThat(MallocTrimGuard.keepsTrimming(null)).isFalse();
        assertThat(MallocTrimGuard.keepsTrimming("false")).isFalse();
        assertThat(MallocTrimGuard.keepsTrimming("")).isFalse();
    }
}
