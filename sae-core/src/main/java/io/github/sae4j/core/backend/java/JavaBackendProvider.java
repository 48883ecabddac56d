package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import java.util.Map;

/**
 * Registers the pure-Java backend as {@code java}. Options: {@code threads} (default: available processors, or
 * {@code devices} if more) and {@code devices}: logical devices that split the threads between them (default 1),
 * for data-parallel training on one CPU.
 */
public final class JavaBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return JavaBackend.NAME;
    }

    @Override
    public String description() {
        return "pure Java: Vector API + threads, no native code (the reference backend); options threads=N, "
                + "devices=N (logical devices that split the threads, for data-parallel training)";
    }

    @Override
    public Backend open(Map<String, String> options) {
        Integer threads = null;
        int devices = 1;
        for (Map.Entry<String, String> e : options.entrySet()) {
            switch (e.getKey()) {
                case "threads" -> threads = positive(e);
                case "devices" -> devices = positive(e);
                default -> throw new IllegalArgumentException("the java backend has no option '" + e.getKey()
                        + "'; its options: threads, devices");
            }
        }
        if (threads == null) {
            threads = Math.max(Runtime.getRuntime().availableProcessors(), devices);
        } else if (threads < devices) {
            throw new IllegalArgumentException("java backend options threads=" + threads + " and devices=" + devices
                    + ": each logical device needs at least one of the threads; raise threads or lower devices");
        }
        return new JavaBackend(threads, devices);
    }

    private static int positive(Map.Entry<String, String> option) {
        int value;
        try {
            value = Integer.parseInt(option.getValue().trim());
        } catch (NumberFormatException ex) {
            value = -1;
        }
        if (value < 1) {
            throw new IllegalArgumentException("java backend option " + option.getKey()
                    + " must be a positive integer, got '" + option.getValue() + "'");
        }
        return value;
    }
}
