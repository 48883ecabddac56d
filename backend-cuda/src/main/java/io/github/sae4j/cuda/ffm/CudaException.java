package io.github.sae4j.cuda.ffm;

/** A CUDA driver, cuBLAS or NVRTC call that returned an error: names the call, the error and what it means. */
public class CudaException extends IllegalStateException {

    private final String call;
    private final int code;
    private final String errorName;

    public CudaException(String call, int code, String errorName, String description) {
        super(call + " failed: " + errorName + " (" + code + ")" + (description == null || description.isBlank() ? ""
                : ": " + description));
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The library function that failed, for example {@code cuMemAlloc_v2}. */
    public String call() {
        return call;
    }

    /** The status it returned. */
    public int code() {
        return code;
    }

    /** The status's name, for example {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
