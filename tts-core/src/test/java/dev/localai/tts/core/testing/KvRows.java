package dev.localai.tts.core.testing;

/**
 * The int8 KV cache's row quantization ({@code nn.KvType.INT8}) written out in plain Java float arithmetic, one
 * element at a time, as the reference that the C kernel ({@code tts_quantize_kv_row}) and {@code model.t3.KvCache}'s
 * LibTorch form are each checked against bit for bit: {@code amax = max |x|}; {@code inv = 127 / amax} (0 where amax
 * is 0 or NaN); {@code q = round-half-even(clamp(x * inv, -127, 127))} (0 for NaN); {@code scale = amax * (1 /
 * 127f)}, NaN where the row holds one.
 */
public final class KvRows {
    private KvRows() {}

    /** Quantizes x[from, from + n) into q[from, from + n) and returns the row's scale. */
    public static float quantize(float[] x, int from, int n, byte[] q) {
        float amax = 0f;
        for (int i = from; i < from + n; i++) {
            float a = Math.abs(x[i]);
            amax = a > amax || Float.isNaN(a) ? a : amax; // a NaN stays, as LibTorch's amax keeps it
        }
        float inv = amax > 0f ? 127f / amax : 0f;
        for (int i = from; i < from + n; i++) {
            float y = x[i] * inv;
            y = y > 127f ? 127f : y < -127f ? -127f : y;
            q[i] = y == y ? (byte) Math.rint(y) : 0;
        }
        return amax * (1f / 127f);
    }
}
