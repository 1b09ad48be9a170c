package dev.localai.tts.core.checkpoint.pickle;

import org.bytedeco.pytorch.global.torch.ScalarType;

/** The tensor element types torch.save writes, by their legacy typed-storage class name. */
public enum TorchDType {
    FLOAT("FloatStorage", 4, ScalarType.Float),
    DOUBLE("DoubleStorage", 8, ScalarType.Double),
    HALF("HalfStorage", 2, ScalarType.Half),
    BFLOAT16("BFloat16Storage", 2, ScalarType.BFloat16),
    LONG("LongStorage", 8, ScalarType.Long),
    INT("IntStorage", 4, ScalarType.Int),
    SHORT("ShortStorage", 2, ScalarType.Short),
    INT8("CharStorage", 1, ScalarType.Char),
    UINT8("ByteStorage", 1, ScalarType.Byte),
    BOOL("BoolStorage", 1, ScalarType.Bool);

    private final String storageClass;
    private final int elementSize;
    private final ScalarType scalarType;

    TorchDType(String storageClass, int elementSize, ScalarType scalarType) {
        this.storageClass = storageClass;
        this.elementSize = elementSize;
        this.scalarType = scalarType;
    }

    /** The class name under module {@code torch}, e.g. {@code FloatStorage}. */
    public String storageClass() {
        return storageClass;
    }

    public int elementSize() {
        return elementSize;
    }

    public ScalarType scalarType() {
        return scalarType;
    }

    public static TorchDType ofStorageClass(String name) {
        for (TorchDType t : values()) {
            if (t.storageClass.equals(name)) {
                return t;
            }
        }
        throw new TorchPickleException("unsupported storage type torch." + name);
    }

    public static TorchDType of(ScalarType st) {
        for (TorchDType t : values()) {
            if (t.scalarType.value == st.value) {
                return t;
            }
        }
        throw new TorchPickleException("unsupported tensor dtype " + st);
    }
}
