package dev.localai.tts.core.engine.api;

import java.time.Instant;

/**
 * A voice of the library.
 *
 * @param id              opaque id (never a filesystem path)
 * @param name            display name
 * @param createdAt       when it was added
 * @param durationSeconds length of the reference clip (0 when unknown)
 * @param builtIn         {@code true} for voices that ship with the model or the configured voices directory's
 *                        read-only part; they cannot be deleted
 */
public record VoiceInfo(String id, String name, Instant createdAt, double durationSeconds, boolean builtIn) {
    public VoiceInfo {
        java.util.Objects.requireNonNull(id, "id");
        if (name == null) {
            name = id;
        }
        if (createdAt == null) {
            createdAt = Instant.EPOCH;
        }
    }
}
