package io.github.sae4j.nd4j;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.core.backend.BackendConformanceSuite;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** The nd4j backend passes every op of the shared suite against the pure-Java oracle. */
class Nd4jBackendConformanceTest extends BackendConformanceSuite {

    @Override
    protected Backend backendUnderTest() {
        Nd4jBackendProvider provider = new Nd4jBackendProvider();
        String reason = provider.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "ND4J cannot run on this machine: " + reason);
        return provider.open(Map.of("threads", "2"));
    }
}
