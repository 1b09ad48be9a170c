package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread count above the CPU cores is a clear configuration error before anything loads: {@code --threads 999} on
 * a 2-core machine took 30 s to load the model and 99 s for 1.4 s of audio.
 */
class EngineThreadsTest {
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    @TempDir
    Path tmp;

    @Test
    void theBuilderRefusesMoreThreadsThanCoresAndNegativeCounts() {
        for (int bad : new int[] {CORES + 1, 999, -1}) {
            assertThatThrownBy(() -> TtsEngine.builder().threads(bad))
                    .as("%d threads", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("threads must be 0 (automatic) or from 1 to " + CORES
                            + ", the CPU cores this process may use: " + bad);
        }
        for (int ok : new int[] {0, 1, CORES}) {
            assertThat(TtsEngine.builder().threads(ok).options().threads()).isEqualTo(ok);
        }
    }

    @Test
    void optionsMadeWithoutTheBuilderAreRefusedBeforeTheModelIsLookedFor() {
        TtsOptions o = TtsEngine.builder().model(tmp.resolve("no-such-model")).allowDownload(false).options();
        TtsOptions tooMany = new TtsOptions(o.model(), o.device(), o.dtype(), o.prefixCacheBytes(), CORES + 1,
                o.maxConcurrent(), o.maxQueue(), o.cacheBytes(), o.voicesDir(), o.allowDownload(), o.warmUp(),
                o.allowClipPaths(), o.chunkChars(), o.firstBlockTokens(), o.maxBlockTokens(), o.firstAudioTarget(),
                o.flowSteps(), o.batchDecoding(), o.stallTimeout(), o.progress());
        assertThatThrownBy(() -> new TtsEngine(tooMany))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("threads must be 0 (automatic) or from 1 to " + CORES);
    }
}
