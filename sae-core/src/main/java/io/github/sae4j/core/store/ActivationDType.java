package io.github.sae4j.core.store;

/** How activation values are stored in a shard. */
public enum ActivationDType {
    /** bfloat16 bit patterns in uint16: half the bytes of float32, the same range, 8 bits of mantissa. */
    BF16("bfloat16", 2),
    /** IEEE float32, exactly as given. */
    F32("float32", 4);

    private final String wireName;
    private final int bytesPerValue;

    ActivationDType(String wireName, int bytesPerValue) {
        this.wireName = wireName;
        this.bytesPerValue = bytesPerValue;
    }

    /** The name written in shard metadata and sidecars: {@code bfloat16} or {@code float32}. */
    public String wireName() {
        return wireName;
    }

    public int bytesPerValue() {
        return bytesPerValue;
    }

    /**
     * The dtype with this wire name.
     *
     * @throws IllegalArgumentException naming the accepted names
     */
    public static ActivationDType fromWireName(String name) {
        for (ActivationDType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown activation dtype '" + name + "': expected 'bfloat16' or 'float32'");
    }
}
