package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.Device;
import java.util.Optional;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** The engine's choice of weight types ({@link WeightPlan#choose}). */
class WeightPlanTest {
    private static final Optional<String> AMX = Optional.of("amx_bf16");

    private static void assertWeights(WeightPlan w, ScalarType t3, ScalarType flow) {
        assertThat(w.t3().value).as("T3").isEqualTo(t3.value);
        assertThat(w.flow().value).as("flow").isEqualTo(flow.value);
    }

    @Test
    void autoPicksBf16OnACpuWithNativeBf16AndFp32Elsewhere() {
        assertWeights(WeightPlan.choose(null, Device.cpu(), AMX), ScalarType.BFloat16, ScalarType.BFloat16);
        assertThat(WeightPlan.choose(null, Device.cpu(), AMX).why()).contains("amx_bf16");
        assertWeights(WeightPlan.choose(null, Device.cpu(), Optional.empty()), ScalarType.Float,
                ScalarType.Float);
    }

    @Test
    void autoOnAGpuIsBf16T3AndAnFp32Flow() {
        assertWeights(WeightPlan.choose(null, Device.cuda(0), Optional.empty()), ScalarType.BFloat16,
                ScalarType.Float);
    }

    @Test
    void anExplicitDtypeAlwaysWins() {
        assertWeights(WeightPlan.choose(ScalarType.Float, Device.cpu(), AMX), ScalarType.Float,
                ScalarType.Float);
        assertWeights(WeightPlan.choose(ScalarType.BFloat16, Device.cpu(), Optional.empty()),
                ScalarType.BFloat16, ScalarType.BFloat16);
        assertWeights(WeightPlan.choose(ScalarType.Half, Device.cpu(), AMX), ScalarType.Half,
                ScalarType.Float);
        assertWeights(WeightPlan.choose(ScalarType.BFloat16, Device.cuda(0), AMX), ScalarType.BFloat16,
                ScalarType.Float);
        assertWeights(WeightPlan.choose(ScalarType.Float, Device.cuda(0), AMX), ScalarType.Float,
                ScalarType.Float);
    }
}
