package dev.localai.manager.config;

/** A models.json problem; the message names the offending field (a dotted path such as {@code models.tts.port}). */
public final class ConfigException extends RuntimeException {
    private final String field;

    public ConfigException(String field, String message) {
        super(field == null || field.isEmpty() ? message : field + ": " + message);
        this.field = field;
    }

    /** Dotted path of the offending field, or empty when the problem concerns the whole file. */
    public String field() {
        return field == null ? "" : field;
    }
}
