package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import java.util.Map;

/** Registers the pure-Java backend as {@code java}. Options: {@code threads} (default: available processors). */
public final class JavaBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return JavaBackend.NAME;
    }

    @Override
    public String description() {
        return "pure Java: Vector API + threads, no native code (the reference backend)";
    }

    @Override
    public Backend open(Map<String, String> options) {
        int threads = Runtime.getRuntime().availableProcessors();
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey().equals("threads")) {
                try {
                    threads = Integer.parseInt(e.getValue().trim());
                } catch (NumberFormatException ex) {
                    threads = -1;
                }
                if (threads < 1) {
                    throw new IllegalArgumentException("java backend option threads must be a positive integer, got '"
                            + e.getValue() + "'");
                }
            } else {
                throw new IllegalArgumentException("the java backend has no option '" + e.getKey()
                        + "'; its options: threads");
            }
        }
        return new JavaBackend(threads);
    }
}
