package dev.localai.tts.core.engine;

import dev.localai.tts.core.runtime.Device;
import java.util.Optional;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The weight types of T3 and the S3Gen flow (HiFT and the voice encoders always run in fp32).
 *
 * @param why how they were chosen, for the log
 */
record WeightPlan(ScalarType t3, ScalarType flow, String why) {
    /**
     * An explicit dtype wins: T3 in it, and on the CPU the flow too when it is bf16 (fp16 flows are not supported on
     * the CPU; on a GPU the flow stays fp32). Without one: bf16 T3 on a GPU; on a CPU with native bf16
     * ({@code bf16Flag}) T3 and flow in bf16, elsewhere fp32 (emulated bf16 is far slower than fp32).
     */
    static WeightPlan choose(ScalarType explicit, Device device, Optional<String> bf16Flag) {
        boolean bf16 = explicit != null && explicit.value == ScalarType.BFloat16.value;
        if (explicit != null) {
            return new WeightPlan(explicit, bf16 && !device.isCuda() ? ScalarType.BFloat16 : ScalarType.Float,
                    "explicit dtype");
        }
        if (device.isCuda()) {
            return new WeightPlan(ScalarType.BFloat16, ScalarType.Float, "auto: GPU");
        }
        return bf16Flag.map(f -> new WeightPlan(ScalarType.BFloat16, ScalarType.BFloat16,
                        "auto: the CPU has native bf16 (" + f + ")"))
                .orElseGet(() -> new WeightPlan(ScalarType.Float, ScalarType.Float,
                        "auto: no native bf16 on this CPU"));
    }

    /** {@code fp32}, {@code bf16} or {@code fp16}. */
    static String name(ScalarType t) {
        return t.value == ScalarType.BFloat16.value ? "bf16" : t.value == ScalarType.Half.value ? "fp16" : "fp32";
    }
}
