package io.github.sae4j.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cuda backend's options ({@code --backend-option name=value}).
 *
 * @param tf32        {@code tf32=true}: cuBLAS may round GEMM inputs to TF32 on tensor cores (about 10 mantissa bits;
 *                    faster, less exact); FP32 by default
 * @param libraryDirs {@code libs=DIR[:DIR...]}: directories searched first for libcublas and libnvrtc (and libcuda),
 *                    for example a Python environment's {@code nvidia/cublas/lib}
 * @param devices     {@code devices=0,2}: the CUDA device ordinals to use, in that order; all by default (empty)
 */
public record CudaOptions(boolean tf32, List<String> libraryDirs, List<Integer> devices) {

    public static final String NAMES = "tf32, libs, devices";

    public CudaOptions {
        libraryDirs = List.copyOf(libraryDirs);
        devices = List.copyOf(devices);
    }

    public static CudaOptions defaults() {
        return new CudaOptions(false, List.of(), List.of());
    }

    /**
     * Parses backend options.
     *
     * @throws IllegalArgumentException naming the option, the value and what is accepted
     */
    public static CudaOptions parse(Map<String, String> options) {
        boolean tf32 = false;
        List<String> libs = new ArrayList<>();
        List<Integer> devices = new ArrayList<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String value = e.getValue() == null ? "" : e.getValue().trim();
            switch (e.getKey()) {
                case "tf32" -> {
                    String v = value.toLowerCase(Locale.ROOT);
                    if (!v.equals("true") && !v.equals("false")) {
                        throw new IllegalArgumentException("cuda backend option tf32 must be true or false, got '"
                                + e.getValue() + "'");
                    }
                    tf32 = v.equals("true");
                }
                case "libs" -> {
                    for (String d : value.split(":")) {
                        if (!d.isBlank()) {
                            libs.add(d.trim());
                        }
                    }
                    if (libs.isEmpty()) {
                        throw new IllegalArgumentException("cuda backend option libs needs one or more directories "
                                + "separated by ':', got '" + e.getValue() + "'");
                    }
                }
                case "devices" -> {
                    for (String d : value.split(",")) {
                        int ordinal;
                        try {
                            ordinal = Integer.parseInt(d.trim());
                        } catch (NumberFormatException ex) {
                            ordinal = -1;
                        }
                        if (ordinal < 0 || devices.contains(ordinal)) {
                            throw new IllegalArgumentException("cuda backend option devices must list distinct device "
                                    + "ordinals such as 0 or 0,1, got '" + e.getValue() + "'");
                        }
                        devices.add(ordinal);
                    }
                }
                default -> throw new IllegalArgumentException("the cuda backend has no option '" + e.getKey()
                        + "'; its options: " + NAMES);
            }
        }
        return new CudaOptions(tf32, libs, devices);
    }
}
