package io.github.sae4j.nd4j;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.core.backend.java.DenseGemm;
import io.github.sae4j.core.backend.java.JavaBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Registers the ND4J backend as {@code nd4j}. Options: {@code threads} (the Java kernels' threads and ND4J's
 * OpenMP/BLAS threads; default: available processors). One device per ND4J device: the CPU, or each GPU with the
 * cuda build.
 */
public final class Nd4jBackendProvider implements BackendProvider {

    public static final String NAME = "nd4j";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "ND4J " + "1.0.0-M2.1" + ": dense products on OpenBLAS (cuBLAS with -Pcuda), sparse ops on the java kernels";
    }

    @Override
    public String unavailableReason() {
        return Nd4jRuntime.unavailableReason();
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
                    throw new IllegalArgumentException("nd4j backend option threads must be a positive integer, got '"
                            + e.getValue() + "'");
                }
            } else {
                throw new IllegalArgumentException("the nd4j backend has no option '" + e.getKey()
                        + "'; its options: threads");
            }
        }
        String reason = Nd4jRuntime.unavailableReason();
        if (reason != null) {
            throw new IllegalStateException("backend 'nd4j' cannot run here: " + reason);
        }
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.getEnvironment().setMaxThreads(threads);
        var env = Nd4j.getExecutioner().getEnvironmentInformation();
        String blas = String.valueOf(env.getOrDefault("blas.vendor", "BLAS"));
        String kind = String.valueOf(env.getOrDefault("backend", "CPU"));
        int devices = Math.max(1, Nd4j.getAffinityManager().getNumberOfDevices());
        List<Nd4jGemm> gemms = new ArrayList<>();
        for (int d = 0; d < (kind.equals("CPU") ? 1 : devices); d++) {
            gemms.add(new Nd4jGemm(blas + " via ND4J" + (kind.equals("CPU") ? "" : " on " + kind + " device " + d),
                    kind.equals("CPU") ? -1 : d));
        }
        List<DenseGemm> dense = List.copyOf(gemms);
        return new JavaBackend(NAME, threads, dense, () -> gemms.forEach(Nd4jGemm::release));
    }
}
