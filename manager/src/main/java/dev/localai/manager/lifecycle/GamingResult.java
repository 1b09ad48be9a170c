package dev.localai.manager.lifecycle;

import java.util.List;

/**
 * Result of a gaming-mode switch.
 *
 * @param vramUsedMb GPU memory in use afterwards, null without nvidia-smi
 * @param persisted  false when the state file could not be written (the switch still happened; see the log)
 */
public record GamingResult(boolean gamingMode, boolean safeToGame, List<String> stoppedModels, Long vramUsedMb,
                           long tookMs, boolean persisted) {}
