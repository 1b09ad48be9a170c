/**
 * The Prometheus text exposition format (version 0.0.4) for both services: a writer that escapes labels and
 * formats samples ({@link dev.localai.tts.api.metrics.PrometheusText}), a family of labelled counters
 * ({@link dev.localai.tts.api.metrics.CounterFamily}) and a fixed-bucket histogram
 * ({@link dev.localai.tts.api.metrics.Histogram}). Each service keeps its own metric names and decides what it
 * measures; these classes only hold the numbers and write them out. Thread-safe, no dependencies.
 */
package dev.localai.tts.api.metrics;
