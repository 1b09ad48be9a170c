package dev.localai.tts.core.tuning;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which CPU a benchmark figure belongs to, from the first processor of {@code /proc/cpuinfo}: its model name, its
 * family and model numbers (a virtual machine often shows a bare "AMD EPYC", and only the numbers tell a Zen 4, family
 * 25, from a Zen 5, family 26), the instruction-set flags that decide the engine's kernels, and the dispatch caps set
 * in the environment (an AVX2-only CPU emulated on a larger one). The flags say what the CPU has, never how fast it
 * runs it: the engine measures that ({@link DtypeProbe}), and keys what it measured by this identity
 * ({@link #probeKey()}), so that a Zen 4 and a Zen 5 behind the same bare name never share figures.
 *
 * @param model     the model name, or "?" where unknown
 * @param family    "family/model" in decimal (e.g. "26/2"), or "?"
 * @param flags     the kernel-relevant flags the CPU lists, in {@link #KERNEL_FLAGS}' order, space-separated
 * @param caps      the dispatch caps in the environment ({@link DtypeProbe#DISPATCH_CAP_VARIABLES}, the ones the
 *                  probe keys its figures by), "name=value" space-separated, or
 *                  "none"
 */
public record CpuIdentity(String model, String family, String flags, String caps) {
    /** The flags the engine's kernels choose paths by (LibTorch, oneDNN and this project's native kernels). */
    public static final List<String> KERNEL_FLAGS = List.of("avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw",
            "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8");

    /** This machine's identity; "?" fields where {@code /proc/cpuinfo} cannot be read (not Linux). */
    public static CpuIdentity now() {
        String cpuinfo;
        try {
            cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
        } catch (IOException | RuntimeException e) {
            cpuinfo = "";
        }
        return parse(cpuinfo, System.getenv());
    }

    /** The identity in {@code cpuinfo}'s first processor block, with the caps found in {@code env} (pure logic). */
    public static CpuIdentity parse(String cpuinfo, Map<String, String> env) {
        Map<String, String> first = new LinkedHashMap<>();
        for (String line : cpuinfo.split("\n")) {
            if (line.isBlank()) {
                if (!first.isEmpty()) {
                    break; // the end of the first processor's block
                }
                continue;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                first.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        String model = first.getOrDefault("model name", "").isEmpty() ? "?" : first.get("model name");
        String fam = first.get("cpu family");
        String mod = first.get("model");
        String family = fam == null || mod == null ? "?" : fam + "/" + mod;
        // a set that takes repeats (Set.of throws on them): this runs on every engine start, through the probe's key
        Set<String> has = new java.util.HashSet<>(List.of(first.getOrDefault("flags", "").split("\\s+")));
        List<String> flags = new ArrayList<>();
        for (String f : KERNEL_FLAGS) {
            if (has.contains(f)) {
                flags.add(f);
            }
        }
        List<String> caps = DtypeProbe.dispatchCapSettings(env);
        return new CpuIdentity(model, family, flags.isEmpty() ? "none" : String.join(" ", flags),
                caps.isEmpty() ? "none" : String.join(" ", caps));
    }

    /**
     * The CPU's part of the probe's key ({@link DtypeProbe#machineKey()}): the model name, then the family/model and the
     * kernel flags in parentheses, e.g. {@code AMD EPYC (25/17; avx2 fma f16c avx512f avx512bw avx512_vnni avx512_bf16)};
     * the bare name where neither is known. Two CPUs the kernels tell apart get two keys: another generation behind the
     * same name, or the same CPU with features a hypervisor hides.
     */
    public String probeKey() {
        if (family.equals("?") && flags.equals("none")) {
            return model;
        }
        return model + " (" + family + "; " + flags + ")";
    }
}
