/** Operations: health and readiness, Prometheus metrics, and the model listings. */
package dev.localai.tts.server.ops;
