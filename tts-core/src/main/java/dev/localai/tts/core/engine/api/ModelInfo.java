package dev.localai.tts.core.engine.api;

/**
 * What the engine runs.
 *
 * @param id          model id, e.g. {@code chatterbox-turbo}
 * @param source      where it was loaded from (repo id or directory)
 * @param device      device description, e.g. {@code cpu} or {@code cuda:0 (NVIDIA H100)}
 * @param dtype       weight dtype of T3, e.g. {@code fp32} or {@code bf16} (on the CPU a bf16 T3 comes with a
 *                    bf16 S3Gen flow)
 * @param sampleRate  output sample rate
 */
public record ModelInfo(String id, String source, String device, String dtype, int sampleRate) {
}
