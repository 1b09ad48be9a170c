package dev.localai.tts.core.tuning;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The weight-type probe's file ({@link DtypeProbe#cacheFile()}): its figures read back where the file holds this
 * machine's key, else measured, logged and written (atomically; a write that fails is logged and ignored), unless
 * other processes kept the CPUs busy meanwhile.
 *
 * <p>A probe takes a few seconds once, and its choices hold for good, so a moment when the machine was not itself
 * would cost every later run. On a 2-core VM (an AMD EPYC Zen 4) about one fresh probe in five timed a candidate
 * that runs on both cores as if it had one (some of them right after another process's burst; the cause was not
 * found): oneDNN's fp32 products tied with OpenBLAS's single thread (12.3 against 12.1 ms, where 6.8-9.4 against
 * 10.2-12.0 is the rule), and a flow on OpenBLAS made the engine under the AVX2 caps 29% slower (rtf 1.46 against
 * 1.13; docs/performance.md, "Thirty-seventh round"). Such a moment slows what it touches and speeds nothing up, so
 * the figures are kept only once {@link #KEPT_PROBES} probes at separate starts have been combined, each timing as
 * the fastest of them ({@link #combine}): a probe written once is measured again at the next start.
 */
final class ProbeFile {
    private static final Logger LOG = Logger.getLogger(DtypeProbe.class.getName());
    static final String FILE = "dtype-probe.properties";
    /** The share of the CPUs other processes may use during a probe whose figures are kept (a quarter). */
    static final double BUSY_SHARE = 0.25;
    /** Probes at separate starts combined before the figures are kept for good. */
    static final int KEPT_PROBES = 2;
    /** The file's count of the probes its figures combine (absent in files written before: one). */
    private static final String PROBES = "probes";

    private ProbeFile() {}

    /** {@link #loadOrMeasure(Path, String, Supplier)}, running {@code beforeMeasuring} right before it measures. */
    static WeightTypes.Probe loadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure,
            Runnable beforeMeasuring) {
        return loadOrMeasure(file, key, () -> {
            beforeMeasuring.run();
            return measure.get();
        });
    }

    /**
     * The figures in {@code file} when it holds {@code key} from {@link #KEPT_PROBES} probes; otherwise
     * {@code measure}'s, combined with the file's where it holds {@code key} from fewer ({@link #combine}), written to
     * {@code file} (a write that fails is logged and ignored) and logged.
     */
    static WeightTypes.Probe loadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure) {
        return loadOrMeasure(file, key, measure, CpuLoad::sample);
    }

    /**
     * {@link #loadOrMeasure(Path, String, Supplier)}, reading the machine's load with {@code load} before and after
     * measuring: where other processes used more than {@link #BUSY_SHARE} of the CPUs meanwhile, the figures serve this
     * process only and are not written (the next start measures again). On 2026-12-04 a probe run beside another
     * benchmark timed 2 threads at 108.7 ms against 15.4 for 1 and kept that: every later run on the quiet machine
     * used one thread of two (docs/performance.md, "Twelfth round").
     */
    static WeightTypes.Probe loadOrMeasure(Path file, String key, Supplier<WeightTypes.Probe> measure,
            Supplier<CpuLoad.Sample> load) {
        Kept kept = readKept(file);
        if (kept != null && !kept.probe().key().equals(key)) {
            kept = null;
        }
        if (kept != null && kept.probes() >= KEPT_PROBES) {
            return kept.probe();
        }
        CpuLoad.Sample before = load.get();
        WeightTypes.Probe p = measure.get();
        double others = CpuLoad.othersShare(before, load.get());
        p = new WeightTypes.Probe(key, p.figures(), p.threadMs(), p.convLayoutMs(), p.decodeAttentionMs(),
                p.streamOverlapMs());
        if (kept != null) {
            p = combine(kept.probe(), p);
        }
        if (others > BUSY_SHARE) {
            LOG.warning(String.format(java.util.Locale.ROOT, "weight-type probe on %s: %s; other processes used %.0f%%"
                    + " of the CPUs while it measured, so these figures serve this run only and are measured again"
                    + " at the next start", key, p.describe(), 100 * others));
            return p;
        }
        int probes = kept != null ? kept.probes() + 1 : 1;
        if (kept != null) {
            LOG.info("weight-type probe on " + key + ", measured again and combined with the figures of an earlier"
                    + " start (" + probes + " probes, each timing the fastest): " + p.describe() + " (kept in " + file
                    + ")");
        } else {
            LOG.info("weight-type probe on " + key + ": " + p.describe() + " (kept in " + file + "; measured again"
                    + " at the next start)");
        }
        write(file, p, probes);
        return p;
    }

    /** A probe file's figures and how many probes they combine. */
    record Kept(WeightTypes.Probe probe, int probes) {}

    /**
     * Two probes' figures as one (pure logic): each timing the fastest of the two (a timing only one of them has, or
     * a number in only one, as it is), each error the later probe's, the later probe's key. A moment when the machine
     * was not itself slows the timings it touches and speeds none up, so the faster of two timings taken at separate
     * starts is the truer one.
     */
    static WeightTypes.Probe combine(WeightTypes.Probe earlier, WeightTypes.Probe later) {
        Map<String, WeightTypes.Figure> f = new LinkedHashMap<>(later.figures());
        earlier.figures().forEach((n, e) -> f.merge(n, e, (l, old) -> new WeightTypes.Figure(
                fastest(old.t3StepMs(), l.t3StepMs()), fastest(old.flowMs(), l.flowMs()), l.relativeError())));
        return new WeightTypes.Probe(later.key(), f, fastest(earlier.threadMs(), later.threadMs()),
                fastest(earlier.convLayoutMs(), later.convLayoutMs()),
                fastest(earlier.decodeAttentionMs(), later.decodeAttentionMs()),
                fastest(earlier.streamOverlapMs(), later.streamOverlapMs()));
    }

    /** The smaller of two timings, a number where the other is not one (NaN: not timed). */
    static double fastest(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.min(a, b);
    }

    private static <K> Map<K, Double> fastest(Map<K, Double> earlier, Map<K, Double> later) {
        Map<K, Double> out = new LinkedHashMap<>(later);
        earlier.forEach((k, v) -> out.merge(k, v, (l, e) -> fastest(e, l)));
        return out;
    }

    /** The figures in a probe file, or null when it is missing or unreadable. */
    static WeightTypes.Probe read(Path file) {
        Kept k = readKept(file);
        return k == null ? null : k.probe();
    }

    /** The figures in a probe file and the probes they combine, or null when it is missing or unreadable. */
    static Kept readKept(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
            String key = props.getProperty("key");
            String names = props.getProperty("dtypes");
            if (key == null || names == null || names.isBlank()) {
                return null;
            }
            Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
            for (String n : names.split(",")) {
                f.put(n, new WeightTypes.Figure(number(props, n + ".t3_step_ms"), number(props, n + ".flow_ms"),
                        number(props, n + ".relative_error")));
            }
            if (!f.containsKey("fp32")) {
                return null;
            }
            Map<Integer, Double> threads = new java.util.TreeMap<>();
            for (var e : timings(props, "threads", "threads.").entrySet()) {
                int c = Integer.parseInt(e.getKey());
                if (c < 1) {
                    return null;
                }
                threads.put(c, e.getValue());
            }
            int probes = Integer.parseInt(props.getProperty(PROBES, "1").trim());
            if (probes < 1) {
                return null;
            }
            return new Kept(new WeightTypes.Probe(key, f, threads, timings(props, "conv_layouts", "conv_layout."),
                    timings(props, "decode_attentions", "decode_attention."),
                    timings(props, "stream_overlaps", "stream_overlap.")), probes);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "unreadable weight-type probe file " + file + ": measuring again", e);
            return null;
        }
    }

    /**
     * The timings listed under {@code list} (comma-separated names), each read from {@code prefix + name + ".ms"};
     * empty when the list is absent (a file of an older probe).
     */
    private static Map<String, Double> timings(Properties p, String list, String prefix) {
        Map<String, Double> out = new LinkedHashMap<>();
        String names = p.getProperty(list);
        if (names != null && !names.isBlank()) {
            for (String n : names.split(",")) {
                out.put(n.trim(), number(p, prefix + n.trim() + ".ms"));
            }
        }
        return out;
    }

    /** Writes {@code ms} as {@link #timings} reads it back; nothing when it is empty. */
    private static void putTimings(Properties p, String list, String prefix, Map<?, Double> ms) {
        if (!ms.isEmpty()) {
            p.setProperty(list, String.join(",", ms.keySet().stream().map(String::valueOf).toList()));
            ms.forEach((n, v) -> p.setProperty(prefix + n + ".ms", Double.toString(v)));
        }
    }

    private static double number(Properties p, String name) {
        String v = p.getProperty(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        return Double.parseDouble(v.trim());
    }

    /** Writes {@code p} as the combination of {@code probes} probes. */
    static void write(Path file, WeightTypes.Probe p, int probes) {
        Properties props = new Properties();
        props.setProperty("key", p.key());
        props.setProperty(PROBES, Integer.toString(probes));
        props.setProperty("dtypes", String.join(",", p.figures().keySet()));
        p.figures().forEach((n, f) -> {
            props.setProperty(n + ".t3_step_ms", Double.toString(f.t3StepMs()));
            props.setProperty(n + ".flow_ms", Double.toString(f.flowMs()));
            props.setProperty(n + ".relative_error", Double.toString(f.relativeError()));
        });
        putTimings(props, "threads", "threads.", p.threadMs());
        putTimings(props, "conv_layouts", "conv_layout.", p.convLayoutMs());
        putTimings(props, "decode_attentions", "decode_attention.", p.decodeAttentionMs());
        putTimings(props, "stream_overlaps", "stream_overlap.", p.streamOverlapMs());
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), FILE, ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                props.store(w, "localai-tts weight-type probe (delete to measure again)");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "could not keep the weight-type probe in " + file + ": " + e.getMessage());
        }
    }

    /**
     * The probe file's name for these dispatch caps ({@link DtypeProbe#dispatchCaps()}, pure logic): {@link #FILE}
     * without caps, else one name per set of caps, so that a run under {@code ATEN_CPU_CAPABILITY=avx2} (a test of
     * another dispatch path, or a benchmark of it) keeps its own figures instead of replacing the machine's, which the
     * next plain start would then have to measure again.
     */
    static String fileName(String caps) {
        if (caps.isEmpty()) {
            return FILE;
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(caps.getBytes(StandardCharsets.UTF_8));
        return FILE.replace(".properties", String.format("-%08x.properties", crc.getValue()));
    }
}
