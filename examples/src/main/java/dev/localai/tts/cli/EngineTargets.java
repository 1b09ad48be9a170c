package dev.localai.tts.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code tts bench engine}'s figures mean for a listener, against the targets of issue 13 on a 2-core CPU: real
 * time ({@code rtf} at most 1.0), first streamed audio within a second ({@code first_audio_ms} at most 1000), and T3's
 * decode step near its memory floor ({@code t3_over_floor} at most 1.3). And the figures as one row of the tables in
 * docs/performance.md, with the CPU named, so a run on another machine can be recorded as it is. Pure logic over the
 * benchmark's result map: it judges figures, it measures nothing.
 */
final class EngineTargets {
    /** One target: the result field and the most it may be. */
    record Target(String field, double max) {
        /** "field <= max", as the verdicts name it. */
        String label() {
            return field + " <= " + number(max);
        }
    }

    static final List<Target> TARGETS = List.of(new Target("rtf", 1.0), new Target("first_audio_ms", 1000),
            new Target("t3_over_floor", 1.3));

    private EngineTargets() {
    }

    /**
     * Adds {@code targets_met} and {@code targets_missed} to {@code r}: the targets' labels, comma-separated, a missed
     * one with its figure ("first_audio_ms <= 1000 (1079)"); a target whose figure is absent or not a finite number
     * counts as missed ("(no figure)"). "none" where a list is empty.
     */
    static void judge(Map<String, Object> r) {
        List<String> met = new ArrayList<>();
        List<String> missed = new ArrayList<>();
        for (Target t : TARGETS) {
            double v = value(r.get(t.field()));
            if (Double.isFinite(v) && v <= t.max()) {
                met.add(t.label());
            } else {
                missed.add(t.label() + (Double.isFinite(v) ? " (" + number(v) + ")" : " (no figure)"));
            }
        }
        r.put("targets_met", met.isEmpty() ? "none" : String.join(", ", met));
        r.put("targets_missed", missed.isEmpty() ? "none" : String.join(", ", missed));
    }

    /** The columns of {@link #markdownRow}, as a Markdown table's header and rule. */
    static String markdownHeader() {
        return "| CPU | family/model | kernel flags | caps | T3 / flow | probe_s | rtf | first_audio_ms "
                + "| first block prompt s | streamed_rtf | streamed_stall_ms (s of audio made cheaper) "
                + "| t3 ms/token (floor) | t3_over_floor | flow first block ms (floor) | targets missed |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";
    }

    /** One Markdown table row of the figures in {@code r} (after {@link #judge}); "?" for a figure it lacks. */
    static String markdownRow(Map<String, Object> r) {
        return "| " + String.join(" | ", List.of(
                cell(r, "cpu") + " (" + cell(r, "cores") + " cores)",
                cell(r, "cpu_family_model"),
                cell(r, "cpu_flags"),
                cell(r, "dispatch_caps"),
                cell(r, "dtype") + " / " + cell(r, "flow_dtype"),
                cell(r, "probe_s"),
                withRange(r, "rtf"),
                withRange(r, "first_audio_ms"),
                cell(r, "first_block_prompt_s") + (r.get("first_block_flow_steps") instanceof Number n
                        && n.intValue() == 1 ? " (1 flow step)" : ""),
                withRange(r, "streamed_rtf"),
                withRange(r, "streamed_stall_ms") + " (" + cell(r, "streamed_cheaper_audio_s") + ")",
                cell(r, "t3_ms_per_token") + " (" + cell(r, "t3_floor_ms_per_token") + ")",
                withRange(r, "t3_over_floor"),
                cell(r, "flow_first_block_ms") + " (" + cell(r, "flow_floor_ms") + ")",
                cell(r, "targets_missed"))) + " |";
    }

    private static String withRange(Map<String, Object> r, String field) {
        Object range = r.get(field + "_range");
        return cell(r, field) + (range == null ? "" : " (" + range + ")");
    }

    private static String cell(Map<String, Object> r, String field) {
        Object v = r.get(field);
        if (v == null) {
            return "?";
        }
        String s = v instanceof Number n ? (Double.isFinite(n.doubleValue()) ? n.toString() : "?") : v.toString();
        return s.replace("|", "/"); // a cell must not end the row early
    }

    /** A figure as a number: the value of a Number, NaN for anything else (absent, "kept", ...). */
    private static double value(Object v) {
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** Integers without a fraction ("1000", not "1000.0"); other values as Java prints a double. */
    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.format(Locale.ROOT, "%d", (long) v)
                : Double.toString(v);
    }
}
