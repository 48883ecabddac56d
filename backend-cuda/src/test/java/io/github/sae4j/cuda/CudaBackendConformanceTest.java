package io.github.sae4j.cuda;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.core.backend.BackendConformanceSuite;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** The cuda backend passes every op of the shared suite against the pure-Java oracle (on a machine with a GPU). */
class CudaBackendConformanceTest extends BackendConformanceSuite {

    @Override
    protected Backend backendUnderTest() {
        CudaBackendProvider provider = new CudaBackendProvider();
        String reason = provider.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "no CUDA device: " + reason);
        return provider.open(Map.of());
    }
}
