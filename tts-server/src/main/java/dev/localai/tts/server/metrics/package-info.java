/**
 * The server's Prometheus counters ({@link dev.localai.tts.server.metrics.Metrics}), fed by the HTTP filter, the
 * speech and Wyoming endpoints and the engine's statistics; {@code ops} serves them.
 */
package dev.localai.tts.server.metrics;
