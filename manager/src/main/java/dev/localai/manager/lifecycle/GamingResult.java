package dev.localai.manager.lifecycle;

import java.util.List;

/**
 * Result of a gaming-mode switch.
 *
 * @param unsafeReason why it is not safe to game (null when it is)
 * @param vramUsedMb GPU memory in use afterwards, null without nvidia-smi
 * @param persisted  false when the state file could not be written (the switch still happened; see the log)
 */
public record GamingResult(boolean gamingMode, boolean safeToGame, String unsafeReason, List<String> stoppedModels, Long vramUsedMb,
                           long tookMs, boolean persisted) {}
