package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkJoinerTest {
    private static final int SR = 24000;
    private static final int FADE = SR / 100;

    private static float[] tone(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 220 * i / SR));
        }
        return x;
    }

    private static float[] join(float[]... parts) {
        float[] out = new float[0];
        for (float[] p : parts) {
            out = ChunkJoiner.concat(List.of(out, p));
        }
        return out;
    }

    private static float[] run(List<float[][]> chunks) {
        List<float[]> out = new ArrayList<>();
        ChunkJoiner j = new ChunkJoiner(out::add);
        for (int c = 0; c < chunks.size(); c++) {
            j.beginChunk(c == 0);
            for (float[] block : chunks.get(c)) {
                j.accept(block);
            }
            j.endChunk(c == chunks.size() - 1);
        }
        return ChunkJoiner.concat(out);
    }

    @Test
    void shortLaterChunksAreKeptWithTheirLeadingSilenceCutAndOneCrossfadePerSeam() {
        float[] first = tone(SR / 2);
        float[] second = join(new float[SR / 10], tone(SR / 5)); // shorter than the lead hold-back
        float[] out = run(List.of(new float[][] {first}, new float[][] {second}));
        // the second chunk's 100 ms of silence goes (30 ms of lead-in stays), the seam overlaps by one fade
        int expected = first.length + (second.length - SR / 10 + SR * 30 / 1000) - FADE;
        assertThat(out.length).isBetween(expected - SR / 100, expected + SR / 100);
    }

    @Test
    void aSilentChunkAddsNothingAndTheStreamStillEndsWithTheLastSpeech() {
        float[] first = tone(SR / 2);
        float[] silent = new float[SR / 3];
        float[] third = tone(SR / 4);
        float[] out = run(List.of(new float[][] {first}, new float[][] {silent}, new float[][] {third}));
        assertThat(out.length).isLessThan(first.length + third.length + SR / 10);
        assertThat(out.length).isGreaterThan(first.length + third.length - 3 * FADE);
    }

    @Test
    void blocksFlowThroughBeforeTheChunkEnds() {
        List<float[]> out = new ArrayList<>();
        ChunkJoiner j = new ChunkJoiner(out::add);
        j.beginChunk(true);
        j.accept(tone(SR / 5));
        assertThat(out).as("speech leaves at once, only the fade overlap is held").isNotEmpty();
        assertThat(ChunkJoiner.concat(out).length).isGreaterThanOrEqualTo(SR / 5 - FADE);
    }
}
