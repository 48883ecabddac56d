package io.github.sae4j.nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.core.Plugins;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class Nd4jRuntimeTest {

    @Test
    void otherPlatformsAreNamedWithTheFix() {
        assertThat(Nd4jRuntime.platformProblem("Linux", "amd64")).isNull();
        assertThat(Nd4jRuntime.platformProblem("Mac OS X", "aarch64")).contains("Linux x86-64 only")
                .contains("Mac OS X aarch64").contains("--backend java").contains("classifier");
    }

    @Test
    void theRegistryFindsItAndItsDeviceSaysWhatRunsTheProducts() {
        String reason = new Nd4jBackendProvider().unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "ND4J cannot run on this machine: " + reason);
        assertThat(Plugins.backends().names()).contains("nd4j", "java");
        try (Backend b = Plugins.openBackend("nd4j", Map.of("threads", "1"))) {
            assertThat(b.name()).isEqualTo("nd4j");
            assertThat(b.devices()).hasSize(1);
            assertThat(b.devices().getFirst().description()).contains("via ND4J");
        }
        assertThatThrownBy(() -> Plugins.openBackend("nd4j", Map.of("device", "3")))
                .hasMessageContaining("no option 'device'").hasMessageContaining("threads");
        assertThat(System.getProperty("org.bytedeco.javacpp.maxbytes")).isNotNull();
    }
}
