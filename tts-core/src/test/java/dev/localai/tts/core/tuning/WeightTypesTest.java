package dev.localai.tts.core.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.Device;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** The weight-type policy on injected timings (no LibTorch calls). */
class WeightTypesTest {
    private static WeightTypes.Probe probe(double fp32Step, double fp32Flow, double bf16Step, double bf16Flow,
            double bf16Error) {
        Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
        f.put("fp32", new WeightTypes.Figure(fp32Step, fp32Flow, 0));
        f.put("bf16", new WeightTypes.Figure(bf16Step, bf16Flow, bf16Error));
        return new WeightTypes.Probe("cpu", f);
    }

    private static Supplier<WeightTypes.Probe> never() {
        return () -> {
            throw new AssertionError("the probe must not run");
        };
    }

    private static void assertPlan(WeightTypes.Plan p, ScalarType t3, ScalarType flow) {
        assertThat(p.t3().value).as("T3").isEqualTo(t3.value);
        assertThat(p.flow().value).as("flow").isEqualTo(flow.value);
    }

    @Test
    void zen4TimingsKeepFp32WhereBf16IsSlower() {
        // figures of the kind measured on a 2-core Zen 4 EPYC that lists avx512_bf16: bf16 3x and 6.6x slower
        WeightTypes.Plan p = WeightTypes.fromProbe(probe(10, 8, 30, 53, 3e-3));
        assertPlan(p, ScalarType.Float, ScalarType.Float);
        assertThat(p.why()).contains("measured").contains("fp32 T3 step 10.00 ms, flow block 8.00 ms").contains("bf16");
    }

    @Test
    void amxTimingsPickBf16ForBoth() {
        assertPlan(WeightTypes.fromProbe(probe(20, 30, 10, 8, 3e-3)), ScalarType.BFloat16, ScalarType.BFloat16);
    }

    @Test
    void t3AndFlowAreChosenSeparately() {
        assertPlan(WeightTypes.fromProbe(probe(20, 8, 10, 30, 3e-3)), ScalarType.BFloat16, ScalarType.Float);
    }

    @Test
    void aFasterCandidateOutsideTheAccuracyBoundIsNotChosen() {
        assertPlan(WeightTypes.fromProbe(probe(20, 30, 10, 8, 0.2)), ScalarType.Float, ScalarType.Float);
        assertPlan(WeightTypes.fromProbe(probe(20, 30, 10, 8, Double.NaN)), ScalarType.Float, ScalarType.Float);
    }

    @Test
    void aGainWithinTimingNoiseKeepsFp32() {
        assertPlan(WeightTypes.fromProbe(probe(10, 10, 9.8, 9.9, 3e-3)), ScalarType.Float, ScalarType.Float);
    }

    @Test
    void missingOrBrokenTimingsNeverWin() {
        assertPlan(WeightTypes.fromProbe(probe(10, 10, Double.NaN, 0, 3e-3)), ScalarType.Float, ScalarType.Float);
    }

    @Test
    void anExplicitDtypeAlwaysWinsAndSkipsTheProbe() {
        assertPlan(WeightTypes.choose(ScalarType.Float, Device.cpu(), never()), ScalarType.Float, ScalarType.Float);
        assertPlan(WeightTypes.choose(ScalarType.BFloat16, Device.cpu(), never()), ScalarType.BFloat16,
                ScalarType.BFloat16);
        assertPlan(WeightTypes.choose(ScalarType.Half, Device.cpu(), never()), ScalarType.Half, ScalarType.Float);
        assertPlan(WeightTypes.choose(ScalarType.BFloat16, Device.cuda(0), never()), ScalarType.BFloat16,
                ScalarType.Float);
        assertThat(WeightTypes.choose(ScalarType.Float, Device.cpu(), never()).why()).isEqualTo("explicit dtype");
    }

    @Test
    void theCpuDefaultComesFromTheProbe() {
        AtomicInteger calls = new AtomicInteger();
        WeightTypes.Plan p = WeightTypes.choose(null, Device.cpu(), () -> {
            calls.incrementAndGet();
            return probe(20, 30, 10, 8, 3e-3);
        });
        assertPlan(p, ScalarType.BFloat16, ScalarType.BFloat16);
        assertThat(calls).hasValue(1);
    }

    @Test
    void int8IsAT3OnlyCandidateThatWinsByItsStepTime() {
        java.util.Map<String, WeightTypes.Figure> f = new java.util.LinkedHashMap<>();
        f.put("fp32", new WeightTypes.Figure(20, 30, 0));
        f.put("bf16", new WeightTypes.Figure(15, 8, 3e-3));
        f.put("int8", new WeightTypes.Figure(5, Double.NaN, 1e-2));
        assertPlan(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)), ScalarType.Char, ScalarType.BFloat16);
        // beyond the accuracy bound it does not win, however fast
        f.put("int8", new WeightTypes.Figure(5, Double.NaN, 0.1));
        assertPlan(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)), ScalarType.BFloat16, ScalarType.BFloat16);
        // asked for explicitly: T3 in int8, the flow as measured; never on a GPU
        f.put("int8", new WeightTypes.Figure(5, Double.NaN, 1e-2));
        assertPlan(WeightTypes.choose(ScalarType.Char, Device.cpu(), () -> new WeightTypes.Probe("k", f)),
                ScalarType.Char, ScalarType.BFloat16);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WeightTypes.choose(ScalarType.Char, Device.cuda(0),
                never())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CPU");
    }

    @Test
    void aBf16FlowWithFp32AttentionWinsWhereBf16AttentionIsSlow() {
        java.util.Map<String, WeightTypes.Figure> f = new java.util.LinkedHashMap<>();
        // the Zen 4 pattern: bf16 products fast, bf16 attention slow, so the bf16 flow loses to fp32 ...
        f.put("fp32", new WeightTypes.Figure(15, 29, 0));
        f.put("bf16", new WeightTypes.Figure(44, 272, 3e-3));
        f.put("int8", new WeightTypes.Figure(5, Double.NaN, 1e-2));
        f.put(WeightTypes.BF16_FP32_ATTENTION, new WeightTypes.Figure(Double.NaN, 12, 3e-3));
        WeightTypes.Plan p = WeightTypes.fromProbe(new WeightTypes.Probe("k", f));
        // ... but with its attention in fp32 it wins; a flow-only candidate never becomes T3's type
        assertPlan(p, ScalarType.Char, ScalarType.BFloat16);
        assertThat(p.flowAttentionFp32()).isTrue();
        // the AMX pattern: plain bf16 is fastest, attention stays bf16
        f.put("bf16", new WeightTypes.Figure(12, 4, 3e-3));
        WeightTypes.Plan amx = WeightTypes.fromProbe(new WeightTypes.Probe("k", f));
        assertPlan(amx, ScalarType.Char, ScalarType.BFloat16);
        assertThat(amx.flowAttentionFp32()).isFalse();
        // an explicit dtype never asks for it
        assertThat(WeightTypes.choose(ScalarType.BFloat16, Device.cpu(), never()).flowAttentionFp32()).isFalse();
    }

    @Test
    void oneDnnForFp32LinearLayersIsChosenByTheFp32FlowBlocksTwoTimings() {
        java.util.Map<String, WeightTypes.Figure> f = new java.util.LinkedHashMap<>();
        // an AVX2-only or Zen 4 pattern: bf16 slow, fp32 on oneDNN faster than on OpenBLAS -> an fp32 flow on oneDNN
        f.put("fp32", new WeightTypes.Figure(15, 30, 0));
        f.put("bf16", new WeightTypes.Figure(44, 272, 3e-3));
        f.put(WeightTypes.FP32_ONEDNN, new WeightTypes.Figure(Double.NaN, 20, 2e-7));
        WeightTypes.Plan p = WeightTypes.fromProbe(new WeightTypes.Probe("k", f));
        assertPlan(p, ScalarType.Float, ScalarType.Float);
        assertThat(p.fp32LinearOnednn()).isTrue();
        // the AMX pattern: the flow takes bf16, and fp32 linear layers (HiFT, voice encoders) still take oneDNN
        f.put("bf16", new WeightTypes.Figure(12, 8, 3e-3));
        WeightTypes.Plan amx = WeightTypes.fromProbe(new WeightTypes.Probe("k", f));
        assertPlan(amx, ScalarType.BFloat16, ScalarType.BFloat16);
        assertThat(amx.fp32LinearOnednn()).isTrue();
        // within timing noise, or not measured: LibTorch's own kernel
        f.put(WeightTypes.FP32_ONEDNN, new WeightTypes.Figure(Double.NaN, 29.5, 2e-7));
        assertThat(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)).fp32LinearOnednn()).isFalse();
        f.remove(WeightTypes.FP32_ONEDNN);
        assertThat(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)).fp32LinearOnednn()).isFalse();
        // never a T3 type, and an explicit dtype does not ask
        f.put(WeightTypes.FP32_ONEDNN, new WeightTypes.Figure(Double.NaN, 1, 2e-7));
        assertThat(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)).t3().value).isEqualTo(ScalarType.BFloat16.value);
        assertThat(WeightTypes.choose(ScalarType.Float, Device.cpu(), never()).fp32LinearOnednn()).isFalse();
    }

    @Test
    void theNativeInt8KernelIsChosenByTheTwoInt8StepTimings() {
        Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
        f.put("fp32", new WeightTypes.Figure(20, 10, 0));
        f.put("int8", new WeightTypes.Figure(8, Double.NaN, 1.1e-2));
        f.put(WeightTypes.INT8_NATIVE, new WeightTypes.Figure(6, Double.NaN, 1.1e-2));
        WeightTypes.Plan p = WeightTypes.fromProbe(new WeightTypes.Probe("k", f));
        assertPlan(p, ScalarType.Char, ScalarType.Float);
        assertThat(p.int8Native()).as("native clearly faster than FBGEMM").isTrue();
        // an explicit int8 keeps the machine's kernel; another explicit type does not ask
        assertThat(WeightTypes.choose(ScalarType.Char, Device.cpu(), () -> new WeightTypes.Probe("k", f)).int8Native())
                .isTrue();
        // within the noise margin, FBGEMM stays (and int8 is still T3's type)
        f.put(WeightTypes.INT8_NATIVE, new WeightTypes.Figure(7.9, Double.NaN, 1.1e-2));
        p = WeightTypes.fromProbe(new WeightTypes.Probe("k", f));
        assertPlan(p, ScalarType.Char, ScalarType.Float);
        assertThat(p.int8Native()).isFalse();
        // outside the accuracy bound or not measured: never
        f.put(WeightTypes.INT8_NATIVE, new WeightTypes.Figure(1, Double.NaN, 0.5));
        assertThat(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)).int8Native()).isFalse();
        f.put(WeightTypes.INT8_NATIVE, new WeightTypes.Figure(Double.NaN, Double.NaN, 1.1e-2));
        assertThat(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)).int8Native()).isFalse();
        // where FBGEMM does not run (no int8 figure), the native kernel alone is int8 and wins by its step time
        f.remove("int8");
        f.put(WeightTypes.INT8_NATIVE, new WeightTypes.Figure(6, Double.NaN, 1.1e-2));
        p = WeightTypes.fromProbe(new WeightTypes.Probe("k", f));
        assertPlan(p, ScalarType.Char, ScalarType.Float);
        assertThat(p.int8Native()).isTrue();
        f.remove(WeightTypes.INT8_NATIVE);
        assertThat(WeightTypes.fromProbe(new WeightTypes.Probe("k", f)).int8Native()).isFalse();
    }

    @Test
    void theGpuRuleIsByComputeCapability() {
        assertPlan(WeightTypes.choose(null, Device.cuda(0), never()), ScalarType.BFloat16, ScalarType.Float);
        assertThat(WeightTypes.gpuDtype(OptionalInt.of(90)).value).isEqualTo(ScalarType.BFloat16.value);
        assertThat(WeightTypes.gpuDtype(OptionalInt.of(80)).value).isEqualTo(ScalarType.BFloat16.value);
        assertThat(WeightTypes.gpuDtype(OptionalInt.of(75)).value).isEqualTo(ScalarType.Half.value);
        assertThat(WeightTypes.gpuDtype(OptionalInt.of(61)).value).isEqualTo(ScalarType.Float.value);
        assertThat(WeightTypes.gpuDtype(OptionalInt.empty()).value).isEqualTo(ScalarType.BFloat16.value);
    }

    @Test
    void dtypeNamesRoundTrip() {
        for (String n : new String[] {"fp32", "bf16", "fp16", "int8"}) {
            assertThat(WeightTypes.name(WeightTypes.scalarType(n))).isEqualTo(n);
        }
        assertThat(WeightTypes.scalarType("BFloat16").value).isEqualTo(ScalarType.BFloat16.value);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WeightTypes.scalarType("int4"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dtype must be");
    }
}
