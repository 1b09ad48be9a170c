package dev.localai.tts.core.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.NativeHeap;
import dev.localai.tts.core.runtime.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe's cache file: reused for the same machine, measured again for another one or when unreadable. */
class DtypeProbeTest {
    @TempDir
    Path tmp;

    private final AtomicInteger measured = new AtomicInteger();

    private Supplier<WeightTypes.Probe> measure(double bf16Step) {
        return () -> {
            measured.incrementAndGet();
            Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
            f.put("fp32", new WeightTypes.Figure(10, 8, 0));
            f.put("bf16", new WeightTypes.Figure(bf16Step, 50, 3e-3));
            return new WeightTypes.Probe("", f);
        };
    }

    @Test
    void theFirstTwoUsesMeasureAndLaterUsesReadTheFile() {
        Path file = tmp.resolve("localai-tts").resolve(ProbeFile.FILE);
        WeightTypes.Probe first = ProbeFile.loadOrMeasure(file, "CPU A | pytorch 1 | 2 cores", measure(30));
        assertThat(measured).hasValue(1);
        assertThat(first.key()).isEqualTo("CPU A | pytorch 1 | 2 cores");
        assertThat(file).isRegularFile();
        assertThat(ProbeFile.readKept(file).probes()).isEqualTo(1);
        // the next start measures again and keeps the two combined: each timing the faster
        WeightTypes.Probe second = ProbeFile.loadOrMeasure(file, "CPU A | pytorch 1 | 2 cores", measure(40));
        assertThat(measured).hasValue(2);
        assertThat(second.figures().get("bf16").t3StepMs()).isEqualTo(30);
        assertThat(ProbeFile.readKept(file).probes()).isEqualTo(ProbeFile.KEPT_PROBES);
        for (int start = 0; start < 3; start++) {
            WeightTypes.Probe again = ProbeFile.loadOrMeasure(file, "CPU A | pytorch 1 | 2 cores", measure(1));
            assertThat(measured).hasValue(2);
            assertThat(again).isEqualTo(second);
        }
        assertThat(WeightTypes.fromProbe(second).t3().value).isEqualTo(WeightTypes.scalarType("fp32").value);
    }

    /**
     * What a probe taken in a moment when the machine was not itself (a candidate on both cores timed as if it had
     * one, as on a 2-core Zen 4 VM right after another process's burst) becomes once the next start's probe is
     * combined with it: each timing the faster of the two, so every choice goes as the undisturbed probe's would.
     */
    @Test
    void aSecondStartsProbeUndoesAChoiceThatADisturbedMomentMade() throws Exception {
        Path file = tmp.resolve(ProbeFile.FILE);
        WeightTypes.Probe disturbed = new WeightTypes.Probe("", figures(12.06, 12.26), Map.of(1, 20.0, 2, 19.5),
                Map.of(ConvLayout.CONTIGUOUS, 25.0, ConvLayout.CHANNELS_LAST, 20.0),
                Map.of(WeightTypes.ATTENTION_LIBTORCH, 11.0, WeightTypes.ATTENTION_NATIVE, 10.8),
                Map.of(WeightTypes.STREAM_IN_LINE, 91.0, WeightTypes.STREAM_OVERLAPPED, 60.0));
        WeightTypes.Probe quiet = new WeightTypes.Probe("", figures(10.7, 7.4), Map.of(1, 19.0, 2, 11.0),
                Map.of(ConvLayout.CONTIGUOUS, 12.0, ConvLayout.CHANNELS_LAST, 21.0),
                Map.of(WeightTypes.ATTENTION_LIBTORCH, 11.5, WeightTypes.ATTENTION_NATIVE, 6.7),
                Map.of(WeightTypes.STREAM_IN_LINE, 57.0, WeightTypes.STREAM_OVERLAPPED, 66.0));
        // whichever start the disturbed moment fell on
        for (boolean disturbedFirst : new boolean[] {true, false}) {
            measured.set(0);
            java.util.Iterator<WeightTypes.Probe> probes = (disturbedFirst ? java.util.List.of(disturbed, quiet)
                    : java.util.List.of(quiet, disturbed)).iterator();
            Supplier<WeightTypes.Probe> measure = () -> {
                measured.incrementAndGet();
                return probes.next();
            };
            WeightTypes.Probe first = ProbeFile.loadOrMeasure(file, "CPU", measure);
            if (disturbedFirst) {
                assertThat(WeightTypes.fromProbe(first).fp32LinearOnednn()).as("the disturbed probe alone").isFalse();
                assertThat(WeightTypes.overlapStreaming(first.streamOverlapMs())).isTrue();
                assertThat(IntraOpThreads.fromTimings(first.threadMs(), 1)).isEqualTo(1);
                assertThat(ConvLayout.channelsLast(first.convLayoutMs())).isTrue();
                assertThat(WeightTypes.nativeDecodeAttention(first.decodeAttentionMs())).isFalse();
            }
            WeightTypes.Probe kept = ProbeFile.loadOrMeasure(file, "CPU", measure);
            assertThat(ProbeFile.loadOrMeasure(file, "CPU", measure)).isEqualTo(kept).isEqualTo(ProbeFile.read(file));
            assertThat(measured).hasValue(2);
            WeightTypes.Plan plan = WeightTypes.fromProbe(kept);
            assertThat(plan.fp32LinearOnednn()).as("disturbed first: %s", disturbedFirst).isTrue();
            assertThat(kept.figures().get("fp32-onednn").flowMs()).isEqualTo(7.4);
            assertThat(kept.figures().get("fp32").flowMs()).isEqualTo(10.7);
            assertThat(WeightTypes.overlapStreaming(kept.streamOverlapMs())).isFalse();
            assertThat(kept.streamOverlapMs()).containsOnly(Map.entry(WeightTypes.STREAM_IN_LINE, 57.0),
                    Map.entry(WeightTypes.STREAM_OVERLAPPED, 60.0));
            assertThat(IntraOpThreads.fromTimings(kept.threadMs(), 1)).isEqualTo(2);
            assertThat(ConvLayout.channelsLast(kept.convLayoutMs())).isFalse();
            assertThat(WeightTypes.nativeDecodeAttention(kept.decodeAttentionMs())).isTrue();
            Files.delete(file);
        }
    }

    /** fp32 and its oneDNN form (flow only), with the flow block's times on each; bf16 out of reach. */
    private static Map<String, WeightTypes.Figure> figures(double fp32FlowMs, double onednnFlowMs) {
        Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
        f.put("fp32", new WeightTypes.Figure(12, fp32FlowMs, 0));
        f.put("bf16", new WeightTypes.Figure(50, 150, 3e-3));
        f.put(WeightTypes.FP32_ONEDNN, new WeightTypes.Figure(Double.NaN, onednnFlowMs, 4.7e-8));
        return f;
    }

    @Test
    void timingsCombineAsTheFasterAndANumberWinsOverNoTiming() {
        assertThat(ProbeFile.fastest(3, 2)).isEqualTo(2);
        assertThat(ProbeFile.fastest(Double.NaN, 2)).isEqualTo(2);
        assertThat(ProbeFile.fastest(3, Double.NaN)).isEqualTo(3);
        assertThat(ProbeFile.fastest(Double.NaN, Double.NaN)).isNaN();
        Map<String, WeightTypes.Figure> a = new LinkedHashMap<>();
        a.put("fp32", new WeightTypes.Figure(10, 8, 0));
        a.put("int8", new WeightTypes.Figure(3, Double.NaN, 1e-2));
        Map<String, WeightTypes.Figure> b = new LinkedHashMap<>();
        b.put("fp32", new WeightTypes.Figure(9, 9, 0));
        b.put("bf16", new WeightTypes.Figure(30, 4, 3e-3));
        WeightTypes.Probe c = ProbeFile.combine(new WeightTypes.Probe("old", a, Map.of(1, 5.0)),
                new WeightTypes.Probe("new", b, Map.of(2, 4.0, 1, 6.0)));
        assertThat(c.key()).isEqualTo("new");
        assertThat(c.figures().keySet()).containsExactly("fp32", "bf16", "int8");
        assertThat(c.figures().get("fp32")).isEqualTo(new WeightTypes.Figure(9, 8, 0));
        assertThat(c.figures().get("bf16")).isEqualTo(new WeightTypes.Figure(30, 4, 3e-3));
        assertThat(c.figures().get("int8").flowMs()).isNaN();
        assertThat(c.threadMs()).containsExactly(Map.entry(1, 5.0), Map.entry(2, 4.0));
    }

    /** Runs under kernel-dispatch caps keep their figures beside the machine's own, not in place of them. */
    @Test
    void eachSetOfDispatchCapsHasAFileOfItsOwn() {
        assertThat(ProbeFile.fileName("")).isEqualTo(ProbeFile.FILE);
        String avx2 = ProbeFile.fileName(" | ATEN_CPU_CAPABILITY=avx2 | ONEDNN_MAX_CPU_ISA=AVX2");
        String haswell = ProbeFile.fileName(" | OPENBLAS_CORETYPE=Haswell");
        assertThat(avx2).isNotEqualTo(ProbeFile.FILE).isNotEqualTo(haswell)
                .isEqualTo(ProbeFile.fileName(" | ATEN_CPU_CAPABILITY=avx2 | ONEDNN_MAX_CPU_ISA=AVX2"))
                .matches("dtype-probe-[0-9a-f]{8}\\.properties");
        assertThat(DtypeProbe.cacheFile().getFileName().toString()).isEqualTo(ProbeFile.fileName(
                DtypeProbe.dispatchCaps()));
        // the capped run measures into its file; the plain file is left as it was
        Path plain = tmp.resolve(ProbeFile.FILE);
        Path capped = tmp.resolve(avx2);
        for (int start = 0; start < ProbeFile.KEPT_PROBES; start++) {
            ProbeFile.loadOrMeasure(plain, "CPU", measure(30));
            ProbeFile.loadOrMeasure(capped, "CPU | ATEN_CPU_CAPABILITY=avx2", measure(40));
        }
        assertThat(measured).hasValue(2 * ProbeFile.KEPT_PROBES);
        assertThat(ProbeFile.loadOrMeasure(plain, "CPU", measure(1)).figures().get("bf16").t3StepMs()).isEqualTo(30);
        assertThat(ProbeFile.loadOrMeasure(capped, "CPU | ATEN_CPU_CAPABILITY=avx2", measure(1)).figures()
                .get("bf16").t3StepMs()).isEqualTo(40);
        assertThat(measured).hasValue(2 * ProbeFile.KEPT_PROBES);
    }

    /**
     * A probe during which other processes used more than a quarter of the CPUs serves its run but is not kept: the
     * next start measures again, on a quiet machine, and keeps that.
     */
    @Test
    void aProbeOnABusyMachineServesItsRunButIsNotKept() {
        Path file = tmp.resolve(ProbeFile.FILE);
        long second = 1_000_000_000L;
        java.util.Iterator<CpuLoad.Sample> busy = java.util.List.of(new CpuLoad.Sample(0, 100, 10, 2),
                new CpuLoad.Sample(2 * second, 104, 11.9, 2)).iterator(); // others 2.1 s of 4
        WeightTypes.Probe p = ProbeFile.loadOrMeasure(file, "CPU", measure(30), busy::next);
        assertThat(measured).hasValue(1);
        assertThat(p.key()).isEqualTo("CPU");
        assertThat(p.figures().get("bf16").t3StepMs()).isEqualTo(30);
        assertThat(file).doesNotExist();
        java.util.Iterator<CpuLoad.Sample> quiet = java.util.List.of(new CpuLoad.Sample(0, 100, 10, 2),
                new CpuLoad.Sample(2 * second, 102.2, 11.9, 2)).iterator(); // others 0.3 s of 4
        WeightTypes.Probe kept = ProbeFile.loadOrMeasure(file, "CPU", measure(5), quiet::next);
        assertThat(measured).hasValue(2);
        assertThat(ProbeFile.read(file)).isEqualTo(kept);
        assertThat(ProbeFile.readKept(file).probes()).isEqualTo(1);
        // the next start's probe is busy too: it serves its run combined with the kept figures, and is not kept
        java.util.Iterator<CpuLoad.Sample> busyAgain = java.util.List.of(new CpuLoad.Sample(0, 100, 10, 2),
                new CpuLoad.Sample(2 * second, 104, 11.9, 2)).iterator();
        assertThat(ProbeFile.loadOrMeasure(file, "CPU", measure(3), busyAgain::next).figures().get("bf16")
                .t3StepMs()).isEqualTo(3);
        assertThat(measured).hasValue(3);
        assertThat(ProbeFile.readKept(file)).isEqualTo(new ProbeFile.Kept(kept, 1));
        java.util.Iterator<CpuLoad.Sample> quietAgain = java.util.List.of(new CpuLoad.Sample(0, 100, 10, 2),
                new CpuLoad.Sample(2 * second, 102.2, 11.9, 2)).iterator();
        ProbeFile.loadOrMeasure(file, "CPU", measure(8), quietAgain::next);
        assertThat(measured).hasValue(4);
        assertThat(ProbeFile.loadOrMeasure(file, "CPU", measure(1), () -> {
            throw new AssertionError("a kept probe is read, not measured");
        }).figures().get("bf16").t3StepMs()).isEqualTo(5);
        assertThat(measured).hasValue(4);
    }

    @Test
    void itSaysSoBeforeItMeasuresAndOnlyThen() throws Exception {
        Path file = tmp.resolve("dtype-probe.properties");
        java.util.List<String> events = new java.util.ArrayList<>();
        Supplier<WeightTypes.Probe> measure = measure(30);
        Supplier<WeightTypes.Probe> logged = () -> {
            events.add("measure");
            return measure.get();
        };
        ProbeFile.loadOrMeasure(file, "CPU A", logged, () -> events.add("notice")); // no file
        assertThat(events).containsExactly("notice", "measure");
        events.clear();
        ProbeFile.loadOrMeasure(file, "CPU A", logged, () -> events.add("notice")); // the second start's probe
        assertThat(events).containsExactly("notice", "measure");
        events.clear();
        ProbeFile.loadOrMeasure(file, "CPU A", logged, () -> events.add("notice"));
        assertThat(events).isEmpty(); // kept figures: no pause, nothing said
        ProbeFile.loadOrMeasure(file, "CPU B", logged, () -> events.add("notice")); // another machine's figures
        assertThat(events).containsExactly("notice", "measure");
        events.clear();
        Files.writeString(file, Files.readString(file).replace("probes=1", "probes=0")); // no count to trust
        ProbeFile.loadOrMeasure(file, "CPU B", logged, () -> events.add("notice"));
        assertThat(events).containsExactly("notice", "measure");
        assertThat(ProbeFile.readKept(file).probes()).as("measured afresh, not combined").isEqualTo(1);
        events.clear();
        Files.writeString(file, "key=CPU B\ndtypes=fp32\n"); // unreadable: its figures are missing
        ProbeFile.loadOrMeasure(file, "CPU B", logged, () -> events.add("notice"));
        assertThat(events).containsExactly("notice", "measure");
    }

    @Test
    void howLongItMeasuredIsKeptForTheBenchmarkAndOnlyWhenItMeasured() throws Exception {
        Path file = tmp.resolve("dtype-probe.properties");
        Supplier<WeightTypes.Probe> measure = measure(30);
        Supplier<WeightTypes.Probe> slow = () -> {
            sleep(120);
            return measure.get();
        };
        DtypeProbe.timedLoadOrMeasure(file, "CPU A", slow, () -> { });
        assertThat(DtypeProbe.measuredSeconds()).isPresent();
        double first = DtypeProbe.measuredSeconds().getAsDouble();
        assertThat(first).isBetween(0.12, 60.0);
        // the second start measures again, and says how long
        DtypeProbe.timedLoadOrMeasure(file, "CPU A", slow, () -> { });
        double second = DtypeProbe.measuredSeconds().getAsDouble();
        assertThat(second).isBetween(0.12, 60.0).isNotEqualTo(first);
        // read from the file: nothing measured, the figure of the measurement stays as it was
        DtypeProbe.timedLoadOrMeasure(file, "CPU A", slow, () -> { });
        assertThat(DtypeProbe.measuredSeconds().getAsDouble()).isEqualTo(second);
    }

    @Test
    void anotherMachineKeyMeasuresAgainAndReplacesTheFile() {
        Path file = tmp.resolve(ProbeFile.FILE);
        ProbeFile.loadOrMeasure(file, "CPU A | pytorch 1 | 2 cores", measure(30));
        WeightTypes.Probe other = ProbeFile.loadOrMeasure(file, "CPU A | pytorch 1 | 16 cores", measure(5));
        assertThat(measured).hasValue(2);
        assertThat(other.figures().get("bf16").t3StepMs()).isEqualTo(5);
        assertThat(ProbeFile.read(file).key()).isEqualTo("CPU A | pytorch 1 | 16 cores");
    }

    @Test
    void aCorruptFileIsMeasuredAgain() throws Exception {
        Path file = tmp.resolve(ProbeFile.FILE);
        for (String junk : new String[] {"garbage \u0000\u0001 = = =", "key=CPU\ndtypes=fp32,bf16\nfp32.t3_step_ms=x\n",
            "key=CPU\ndtypes=bf16\nbf16.t3_step_ms=1\nbf16.flow_ms=1\nbf16.relative_error=0\n", ""}) {
            Files.writeString(file, junk);
            assertThat(ProbeFile.read(file)).isNull();
            int before = measured.get();
            WeightTypes.Probe p = ProbeFile.loadOrMeasure(file, "CPU", measure(30));
            assertThat(measured.get()).isEqualTo(before + 1);
            assertThat(ProbeFile.read(file)).isEqualTo(p);
        }
    }

    @Test
    void theThreadTimingsAreKeptWithTheDtypeFigures() {
        Path file = tmp.resolve(ProbeFile.FILE);
        Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
        f.put("fp32", new WeightTypes.Figure(10, 8, 0));
        WeightTypes.Probe p = ProbeFile.loadOrMeasure(file, "CPU",
                () -> new WeightTypes.Probe("", f, Map.of(2, 16.5, 1, 30.25)));
        assertThat(p.threadMs()).containsExactly(Map.entry(1, 30.25), Map.entry(2, 16.5));
        WeightTypes.Probe again = ProbeFile.read(file);
        assertThat(again).isEqualTo(p);
        assertThat(again.describe()).startsWith("1 thread 30.25 ms, 2 threads 16.50 ms; fp32 T3 step");
        assertThat(IntraOpThreads.fromTimings(again.threadMs(), 1)).isEqualTo(2);
    }

    /** fp32's figures alone, as a measured probe's. */
    private static Map<String, WeightTypes.Figure> fp32Figures() {
        Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
        f.put("fp32", new WeightTypes.Figure(10, 8, 0));
        return f;
    }

    /** {@code measured} kept in a probe file and read back: the same figures. Returns what was read. */
    private WeightTypes.Probe keptAndReadBack(WeightTypes.Probe measured) {
        Path file = tmp.resolve(ProbeFile.FILE);
        WeightTypes.Probe p = ProbeFile.loadOrMeasure(file, "CPU", () -> measured);
        WeightTypes.Probe again = ProbeFile.read(file);
        assertThat(again).isEqualTo(p);
        return again;
    }

    @Test
    void theConvolutionLayoutTimingsAreKeptToo() {
        Map<String, Double> layouts = new LinkedHashMap<>();
        layouts.put(ConvLayout.CONTIGUOUS, 12.5);
        layouts.put(ConvLayout.CHANNELS_LAST, 8.25);
        WeightTypes.Probe again = keptAndReadBack(new WeightTypes.Probe("", fp32Figures(), Map.of(), layouts));
        assertThat(again.convLayoutMs()).containsExactly(Map.entry(ConvLayout.CONTIGUOUS, 12.5),
                Map.entry(ConvLayout.CHANNELS_LAST, 8.25));
        assertThat(again.describe()).endsWith("convolutions contiguous 12.50 ms; convolutions channels-last 8.25 ms");
        assertThat(ConvLayout.channelsLast(again.convLayoutMs())).isTrue();
    }

    @Test
    void theStreamedBlockTimingsAreKeptAndChoose() {
        Map<String, Double> ways = new LinkedHashMap<>();
        ways.put(WeightTypes.STREAM_IN_LINE, 65.5);
        ways.put(WeightTypes.STREAM_OVERLAPPED, 78.25);
        WeightTypes.Probe again = keptAndReadBack(new WeightTypes.Probe("", fp32Figures(), Map.of(), Map.of(),
                Map.of(), ways));
        assertThat(again.streamOverlapMs()).containsExactly(Map.entry(WeightTypes.STREAM_IN_LINE, 65.5),
                Map.entry(WeightTypes.STREAM_OVERLAPPED, 78.25));
        assertThat(again.describe()).endsWith("streamed block in line 65.50 ms; streamed block overlapped 78.25 ms");
        assertThat(WeightTypes.overlapStreaming(again.streamOverlapMs())).as("overlapping came later").isFalse();
        ways.put(WeightTypes.STREAM_OVERLAPPED, 64.0); // within the noise margin: in line
        assertThat(WeightTypes.overlapStreaming(ways)).isFalse();
        // the proxy 15% faster overlapped, as a Zen 4's first probes measured where its stream was slower so: in line
        ways.put(WeightTypes.STREAM_OVERLAPPED, 57.0);
        assertThat(WeightTypes.overlapStreaming(ways)).isFalse();
        ways.put(WeightTypes.STREAM_OVERLAPPED, 65.5 / WeightTypes.STREAM_OVERLAP_GAIN * 1.001);
        assertThat(WeightTypes.overlapStreaming(ways)).as("just short of the streams' margin").isFalse();
        ways.put(WeightTypes.STREAM_OVERLAPPED, 65.5 / WeightTypes.STREAM_OVERLAP_GAIN * 0.999);
        assertThat(WeightTypes.overlapStreaming(ways)).isTrue();
        ways.put(WeightTypes.STREAM_OVERLAPPED, 45.0);
        assertThat(WeightTypes.overlapStreaming(ways)).isTrue();
        assertThat(WeightTypes.overlapStreaming(Map.of())).as("an older probe's file: overlapped, as before").isTrue();
        assertThat(new WeightTypes.Probe("", fp32Figures()).streamOverlapMs()).isEmpty();
    }

    /**
     * The measurement itself, on work whose answer is known whatever the CPU: two sides that sleep can overlap
     * completely (half the time), two that hold one lock cannot at all (all the naps either way). Three rounds each.
     */
    @Test
    void theStreamedBlockMeasurementSeesWhetherTheTwoSidesCanRunTogether() {
        Runnable nap = () -> sleep(2);
        Object lock = new Object();
        Runnable locked = () -> {
            synchronized (lock) {
                sleep(2);
            }
        };
        for (int round = 0; round < 3; round++) {
            Map<String, Double> free = KernelTimings.timeStreamOverlap(nap, 2, nap, 2);
            assertThat(free.get(WeightTypes.STREAM_OVERLAPPED)).as("round %d: sides that can overlap", round)
                    .isLessThan(0.8 * free.get(WeightTypes.STREAM_IN_LINE));
            assertThat(WeightTypes.overlapStreaming(free)).isTrue();
            // sides that cannot overlap: both ways take at least all twenty naps (the medians' noise on a busy
            // machine can exceed the choice's 5% margin, so the choice itself is checked on fixed figures above)
            Map<String, Double> serial = KernelTimings.timeStreamOverlap(locked, 2, locked, 2);
            assertThat(serial.get(WeightTypes.STREAM_IN_LINE)).as("round %d: twenty naps of 2 ms", round)
                    .isGreaterThanOrEqualTo(40.0);
            assertThat(serial.get(WeightTypes.STREAM_OVERLAPPED)).as("round %d: twenty naps under one lock", round)
                    .isGreaterThanOrEqualTo(40.0);
        }
    }

    @Test
    void theStreamedBlockProxyHasTheEnginesProportions() {
        // a 20 ms decoding side, and a flow side as many times as long as the flow block is to the decode step
        assertThat(KernelTimings.streamSides(1.2, 3.0)).containsExactly(17, 17); // 20 ms against 50
        assertThat(KernelTimings.streamSides(10, 10)).containsExactly(2, 2);
        assertThat(KernelTimings.streamSides(2, 1)).containsExactly(10, 10); // 20 ms against 10
        // within [1/4, 8]: a flow block 100 times a step still gives a side of 160 ms, one 100 times shorter 5 ms
        assertThat(KernelTimings.streamSides(1, 100)).containsExactly(20, 2);
        assertThat(KernelTimings.streamSides(10, 0.1)).containsExactly(2, 50);
        // and at least one of each, at most 400
        assertThat(KernelTimings.streamSides(1000, 1000)).containsExactly(1, 1);
        assertThat(KernelTimings.streamSides(0, 0)).containsExactly(400, 400);

        // and the proxy runs those counts: sides of naps, in line twice as long as the flow side alone
        java.util.concurrent.atomic.AtomicInteger steps = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger flows = new java.util.concurrent.atomic.AtomicInteger();
        Map<String, Double> ms = KernelTimings.timeStreamOverlap(() -> {
            steps.incrementAndGet();
            sleep(2);
        }, 2, () -> {
            flows.incrementAndGet();
            sleep(4);
        }, 4);
        int runs = steps.get() / 10;
        assertThat(runs).as("timed runs of both ways").isGreaterThanOrEqualTo(2);
        // the warm-up is one step and one flow block (on the helper), not a whole run of each way
        assertThat(steps.get()).as("10 steps a run, and the warm-up's one").isEqualTo(10 * runs + 1);
        assertThat(flows.get()).as("10 flow blocks a run (40 ms: twice the decoding side), and the warm-up's one")
                .isEqualTo(10 * runs + 1);
        assertThat(ms.get(WeightTypes.STREAM_IN_LINE)).isGreaterThanOrEqualTo(60.0);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theDecodeAttentionTimingsAreKeptAndChoose() throws Exception {
        Map<String, Double> att = new LinkedHashMap<>();
        att.put(WeightTypes.ATTENTION_LIBTORCH, 9.5);
        att.put(WeightTypes.ATTENTION_NATIVE, 4.25);
        WeightTypes.Probe again = keptAndReadBack(new WeightTypes.Probe("", fp32Figures(), Map.of(), Map.of(), att));
        assertThat(again.decodeAttentionMs()).containsExactly(Map.entry(WeightTypes.ATTENTION_LIBTORCH, 9.5),
                Map.entry(WeightTypes.ATTENTION_NATIVE, 4.25));
        assertThat(again.describe()).endsWith("decode attention libtorch 9.50 ms; decode attention native 4.25 ms");
        assertThat(WeightTypes.nativeDecodeAttention(again.decodeAttentionMs())).isTrue();
        att.put(WeightTypes.ATTENTION_NATIVE, 9.2); // within the noise margin
        assertThat(WeightTypes.nativeDecodeAttention(att)).isFalse();
        assertThat(WeightTypes.nativeDecodeAttention(Map.of(WeightTypes.ATTENTION_NATIVE, 1.0))).isFalse();
        Path broken = assertUnreadableWith("decode_attentions=libtorch,native\ndecode_attention.libtorch.ms=3\n",
                "decode_attentions=native\ndecode_attention.native.ms=quick\n");
        assertThat(ProbeFile.read(broken).decodeAttentionMs()).as("an older probe's file: LibTorch's form").isEmpty();
    }

    @Test
    void theRealDecodeAttentionTimingMeasuresBothForms() {
        Map<String, Double> ms = KernelTimings.timeDecodeAttention();
        if (!dev.localai.tts.core.nn.CpuAttention.available()) {
            assertThat(ms).isEmpty();
            return;
        }
        assertThat(ms).containsOnlyKeys(WeightTypes.ATTENTION_LIBTORCH, WeightTypes.ATTENTION_NATIVE);
        assertThat(ms.values()).allSatisfy(v -> assertThat(v).isPositive().isFinite());
        System.out.println("decode attention probe on " + DtypeProbe.cpuModel() + ": " + ms);
    }

    /** A probe file holding only fp32's figures, to which a test appends broken timing lines. */
    private static final String FP32_ONLY =
            "key=CPU\ndtypes=fp32\nfp32.t3_step_ms=1\nfp32.flow_ms=1\nfp32.relative_error=0\n";

    /** Each of {@code junk} after fp32's figures makes the file unreadable (measured again); returns the file. */
    private Path assertUnreadableWith(String... junk) throws Exception {
        Path file = tmp.resolve(ProbeFile.FILE);
        for (String j : junk) {
            Files.writeString(file, FP32_ONLY + j);
            assertThat(ProbeFile.read(file)).as(j).isNull();
        }
        Files.writeString(file, FP32_ONLY);
        return file;
    }

    @Test
    void brokenLayoutFiguresAreMeasuredAgain() throws Exception {
        Path file = assertUnreadableWith("conv_layouts=contiguous,channels_last\nconv_layout.contiguous.ms=3\n",
                "conv_layouts=contiguous\nconv_layout.contiguous.ms=slow\n");
        assertThat(ProbeFile.read(file).convLayoutMs()).as("a file of an older probe: the default layout").isEmpty();
    }

    /**
     * The layouts are compared on the convolutions, not on page faults: once the heap is settled as the engine's is, a
     * run of the chain in either layout reuses its memory (on the Zen 5 EPYC 4-242 minor faults a run, 17-19 ms)
     * instead of having its tensors zeroed and faulted in again (2800-6400 faults, 35-59 ms in a fresh process).
     * Both layouts, five runs each after two to warm up; Linux only (the fault count is /proc's).
     */
    @Test
    void theConvolutionChainRunsWithoutFaultingItsTensorsInAgainOnceTheHeapIsSettled() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "Linux /proc");
        Torch.load();
        boolean before = dev.localai.tts.core.nn.Conv.channelsLast();
        NativeHeap.settle();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            KernelTimings.ConvChain chain = KernelTimings.ConvChain.random();
            for (boolean cl : new boolean[] {false, true}) {
                dev.localai.tts.core.nn.Conv.useChannelsLast(cl);
                chain.run();
                chain.run();
                long faults = minorFaults();
                for (int i = 0; i < 5; i++) {
                    chain.run();
                }
                assertThat((minorFaults() - faults) / 5).as("minor faults a run, channels-last %s", cl)
                        .isLessThan(1000);
            }
        } finally {
            dev.localai.tts.core.nn.Conv.useChannelsLast(before);
        }
    }

    /** This process's minor page faults so far (the tenth field of /proc/self/stat). */
    private static long minorFaults() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[7]);
    }

    @Test
    void theRealLayoutTimingMeasuresBothAndPutsTheSwitchBack() {
        boolean before = dev.localai.tts.core.nn.Conv.channelsLast();
        Map<String, Double> ms = KernelTimings.timeConvLayouts();
        assertThat(ms).containsOnlyKeys(ConvLayout.CONTIGUOUS, ConvLayout.CHANNELS_LAST);
        assertThat(ms.values()).allSatisfy(v -> assertThat(v).isPositive().isFinite());
        assertThat(dev.localai.tts.core.nn.Conv.channelsLast()).isEqualTo(before);
        System.out.println("convolution layout probe on " + DtypeProbe.cpuModel() + ": " + ms);
    }

    @Test
    void brokenThreadFiguresAreMeasuredAgain() throws Exception {
        Path file = assertUnreadableWith("threads=1,2\nthreads.1.ms=3\n", "threads=x\n",
                "threads=0\nthreads.0.ms=1\n", "threads=1\nthreads.1.ms=fast\n");
        assertThat(ProbeFile.read(file).threadMs()).as("no thread figures: one count was a candidate").isEmpty();
    }

    @Test
    void theRealThreadTimingMeasuresEachCountAndPutsLibTorchsCountBack() {
        int before = Torch.threads();
        Map<Integer, Double> ms = KernelTimings.timeThreads(java.util.List.of(1, 2));
        assertThat(ms).containsOnlyKeys(1, 2);
        assertThat(ms.values()).allSatisfy(v -> assertThat(v).isPositive().isFinite());
        assertThat(Torch.threads()).isEqualTo(before);
        System.out.println("thread probe on " + DtypeProbe.cpuModel() + ": " + ms);
    }

    @Test
    void anUnwritableCacheStillGivesFigures() throws Exception {
        Path blocker = tmp.resolve("not-a-dir");
        Files.writeString(blocker, "x");
        WeightTypes.Probe p = ProbeFile.loadOrMeasure(blocker.resolve(ProbeFile.FILE), "CPU", measure(30));
        assertThat(p.figures()).containsKeys("fp32", "bf16");
    }

    @Test
    void theRaceIsRunForTheChoicesTheFiguresFeed() {
        List<String> names = List.of("fp32", "bf16", "int8", WeightTypes.INT8_NATIVE, WeightTypes.BF16_FP32_ATTENTION,
                WeightTypes.FP32_ONEDNN);
        // operations: fp32 step 0 and flow 1, bf16 step 2 and flow 3, int8 step 4, native step 5, flows 6 and 7
        int[] step = {0, 2, 4, 5, -1, -1};
        int[] flow = {1, 3, -1, -1, 6, 7};
        double[] errors = {0, 3e-3, 1e-2, 1e-2, 3e-3, 5e-8};
        List<int[]> d = DtypeProbe.dtypeDecisions(names, errors, step, flow);
        assertThat(d).containsExactly(new int[] {0, 2, 4, 5}, new int[] {1, 3, 6, 7}, new int[] {1, 7},
                new int[] {4, 5});

        // a candidate past the error bound cannot be chosen, so it must not end the others' timing: in no group
        double[] badBf16 = {0, 0.5, 1e-2, Double.NaN, 3e-3, 5e-8};
        assertThat(DtypeProbe.dtypeDecisions(names, badBf16, step, flow)).containsExactly(new int[] {0, 4},
                new int[] {1, 6, 7}, new int[] {1, 7}, new int[] {4, 5});

        // only what this machine runs: no FBGEMM, no oneDNN linear
        List<String> some = List.of("fp32", "bf16", WeightTypes.INT8_NATIVE);
        assertThat(DtypeProbe.dtypeDecisions(some, new double[] {0, 3e-3, 1e-2}, new int[] {0, 2, 4},
                new int[] {1, 3, -1})).containsExactly(new int[] {0, 2, 4}, new int[] {1, 3});
    }

    @Test
    void theRealProbeMeasuresEveryCandidateWithinTheBound() {
        WeightTypes.Probe p = DtypeProbe.measure();
        assertThat(p.figures().keySet()).containsExactlyElementsOf(DtypeProbe.candidates());
        assertThat(DtypeProbe.candidates()).containsSubsequence("fp32", "bf16");
        assertThat(DtypeProbe.candidates().contains(WeightTypes.INT8_NATIVE))
                .isEqualTo(dev.localai.tts.core.nn.Int8Kernel.available());
        p.figures().forEach((name, f) -> {
            if (name.equals(WeightTypes.BF16_FP32_ATTENTION) || name.equals(WeightTypes.FP32_ONEDNN)) {
                assertThat(f.t3StepMs()).as("a flow-only candidate").isNaN();
            } else {
                assertThat(f.t3StepMs()).isPositive().isFinite();
            }
            if (name.equals("int8") || name.equals(WeightTypes.INT8_NATIVE)) {
                assertThat(f.flowMs()).as("int8 is a T3-only candidate").isNaN();
            } else {
                assertThat(f.flowMs()).isPositive().isFinite();
            }
            if (name.equals(WeightTypes.FP32_ONEDNN)) {
                assertThat(f.relativeError()).as("fp32 on another kernel: rounding only").isLessThan(1e-5);
            } else if (!name.equals("fp32")) {
                assertThat(f.relativeError()).as(name).isBetween(1e-4, WeightTypes.MAX_RELATIVE_ERROR);
            }
        });
        assertThat(p.figures().get("fp32").relativeError()).isZero();
        assertThat(p.figures().get("bf16").relativeError()).isBetween(1e-4, WeightTypes.MAX_RELATIVE_ERROR);
        assertThat(DtypeProbe.machineKey()).contains("pytorch").contains("cores");
        System.out.println("probe on " + DtypeProbe.machineKey() + ": " + p.describe() + " -> "
                + WeightTypes.fromProbe(p));
    }
}
