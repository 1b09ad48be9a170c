package dev.localai.tts.core.tuning;

import java.nio.file.Path;

/**
 * For tests that start engines in child processes and check what those print: this machine's probe file (the one the
 * children read: same environment, same caps) marked as kept for good, measured now where it holds no figures for
 * this machine, so that no child pauses to measure and says so ({@link ProbeFile#KEPT_PROBES}: a file of one probe is
 * measured again at the next start).
 */
public final class SettledProbe {
    private SettledProbe() {}

    /** Settles {@link DtypeProbe#cacheFile()} for {@link DtypeProbe#machineKey()}; returns its figures. */
    public static WeightTypes.Probe settle() {
        Path file = DtypeProbe.cacheFile();
        String key = DtypeProbe.machineKey();
        ProbeFile.Kept kept = ProbeFile.readKept(file);
        WeightTypes.Probe p = kept != null && kept.probe().key().equals(key) ? kept.probe()
                : ProbeFile.loadOrMeasure(file, key, DtypeProbe::measure);
        ProbeFile.write(file, p, ProbeFile.KEPT_PROBES);
        return p;
    }
}
