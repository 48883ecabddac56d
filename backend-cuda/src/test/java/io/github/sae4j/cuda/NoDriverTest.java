package io.github.sae4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.cuda.ffm.CudaDriver;
import io.github.sae4j.cuda.ffm.NativeLibraries;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** On a machine without the NVIDIA driver, the backend says so clearly and nothing crashes. */
class NoDriverTest {

    @BeforeAll
    static void onlyWithoutADriver() {
        boolean driverPresent = NativeLibraries.load(List.of("libcuda.so.1"),
                NativeLibraries.searchDirectories(List.of())).isPresent();
        Assumptions.assumeFalse(driverPresent, "this machine has libcuda.so.1: the no-driver paths cannot be seen here");
    }

    @Test
    void loadingTheDriverSaysWhatWasSearchedAndWhatToDo() {
        List<String> dirs = NativeLibraries.searchDirectories(List.of("/opt/nowhere"));
        assertThatThrownBy(() -> CudaDriver.load(dirs))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("no NVIDIA driver: libcuda.so.1 not found in /opt/nowhere, ")
                .hasMessageContaining("/usr/local/cuda/lib64")
                .hasMessageContaining("/usr/lib/x86_64-linux-gnu")
                .hasMessageEndingWith("the cuda backend needs a GPU with its driver; use --backend java");
    }

    @Test
    void theProviderIsListedAsUnavailableWithTheReason() {
        BackendProvider cuda = Plugins.backends().get("cuda");
        assertThat(cuda).isInstanceOf(CudaBackendProvider.class);
        assertThat(cuda.unavailableReason()).startsWith("no NVIDIA driver: libcuda.so.1 not found in ")
                .contains("use --backend java");
        assertThat(Plugins.backends().names()).contains("java", "cuda");
    }

    @Test
    void openingItFailsWithTheReasonNotACrash() {
        assertThatThrownBy(() -> Plugins.openBackend("cuda", Map.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("backend 'cuda' cannot run here: no NVIDIA driver");
        assertThatThrownBy(() -> new CudaBackendProvider().open(Map.of("tf32", "true")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("libcuda.so.1 not found");
    }

    @Test
    void badOptionsAreReportedBeforeAnyLibraryIsNeeded() {
        assertThatThrownBy(() -> new CudaBackendProvider().open(Map.of("threads", "4")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the cuda backend has no option 'threads'; its options: tf32, libs, devices");
    }
}
