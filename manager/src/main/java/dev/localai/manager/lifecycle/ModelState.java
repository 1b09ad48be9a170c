package dev.localai.manager.lifecycle;

import java.util.Locale;

/** Lifecycle state of one model's container. */
public enum ModelState {
    STOPPED, STARTING, READY, DRAINING, STOPPING, FAILED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The container is (or may be) up and holding its VRAM. */
    public boolean active() {
        return this == STARTING || this == READY || this == DRAINING || this == STOPPING;
    }
}
