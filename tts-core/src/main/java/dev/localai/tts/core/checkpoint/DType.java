package dev.localai.tts.core.checkpoint;

import org.bytedeco.pytorch.global.torch.ScalarType;

/** The element types of the safetensors format, with their LibTorch equivalents. */
public enum DType {
    F64("F64", 8, ScalarType.Double),
    F32("F32", 4, ScalarType.Float),
    F16("F16", 2, ScalarType.Half),
    BF16("BF16", 2, ScalarType.BFloat16),
    I64("I64", 8, ScalarType.Long),
    I32("I32", 4, ScalarType.Int),
    I16("I16", 2, ScalarType.Short),
    I8("I8", 1, ScalarType.Char),
    U8("U8", 1, ScalarType.Byte),
    BOOL("BOOL", 1, ScalarType.Bool),
    F8_E4M3("F8_E4M3", 1, ScalarType.Float8_e4m3fn),
    F8_E5M2("F8_E5M2", 1, ScalarType.Float8_e5m2);

    private final String code;
    private final int size;
    private final ScalarType scalarType;

    DType(String code, int size, ScalarType scalarType) {
        this.code = code;
        this.size = size;
        this.scalarType = scalarType;
    }

    /** The name used in a safetensors header ("F32", "BF16", ...). */
    public String code() {
        return code;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    public ScalarType scalarType() {
        return scalarType;
    }

    /** The dtype of a header code, or null when the code is unknown. */
    public static DType ofCode(String code) {
        for (DType d : values()) {
            if (d.code.equals(code)) {
                return d;
            }
        }
        return null;
    }

    /** The dtype of a LibTorch scalar type; throws for types safetensors cannot hold. */
    public static DType of(ScalarType type) {
        for (DType d : values()) {
            if (d.scalarType.value == type.value) {
                return d;
            }
        }
        throw new IllegalArgumentException("safetensors cannot store tensors of type " + type);
    }
}
