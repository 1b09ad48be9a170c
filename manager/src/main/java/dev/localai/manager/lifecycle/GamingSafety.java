package dev.localai.manager.lifecycle;

/**
 * Whether a game may take the GPU now, and if not, why.
 *
 * @param reason null when safe; otherwise a sentence for the user (the UI shows it)
 */
public record GamingSafety(boolean safe, String reason) {}
