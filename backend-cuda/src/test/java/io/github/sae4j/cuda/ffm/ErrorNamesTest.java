package io.github.sae4j.cuda.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure-Java parts of the bindings: error names, library choice, compile targets. */
class ErrorNamesTest {

    @Test
    void driverErrorsHaveTheirCudaHNames() {
        assertThat(CudaDriver.errorNameFromTable(2)).isEqualTo("CUDA_ERROR_OUT_OF_MEMORY");
        assertThat(CudaDriver.errorNameFromTable(100)).isEqualTo("CUDA_ERROR_NO_DEVICE");
        assertThat(CudaDriver.errorNameFromTable(803)).isEqualTo("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH");
        assertThat(CudaDriver.errorNameFromTable(12345)).isEqualTo("CUresult 12345");
    }

    @Test
    void cublasAndNvrtcStatusesHaveNames() {
        assertThat(Cublas.statusName(1)).isEqualTo("CUBLAS_STATUS_NOT_INITIALIZED");
        assertThat(Cublas.statusName(13)).isEqualTo("CUBLAS_STATUS_EXECUTION_FAILED");
        assertThat(Cublas.statusName(99)).isEqualTo("cublasStatus_t 99");
        assertThat(Nvrtc.resultNameFromTable(6)).isEqualTo("NVRTC_ERROR_COMPILATION");
        assertThat(Nvrtc.resultNameFromTable(42)).isEqualTo("nvrtcResult 42");
    }

    @Test
    void exceptionsNameTheCallTheErrorAndItsMeaning() {
        CudaException e = new CudaException("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        assertThat(e).hasMessage("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory");
        assertThat(e.call()).isEqualTo("cuMemAlloc_v2");
        assertThatThrownBy(() -> Cublas.check(1, "cublasCreate_v2")).isInstanceOf(CudaException.class)
                .hasMessageStartingWith("cublasCreate_v2 failed: CUBLAS_STATUS_NOT_INITIALIZED (1): ")
                .hasMessageContaining("driver older than this cuBLAS");
    }

    @Test
    void librariesAreChosenByTheDriversCudaMajor() {
        assertThat(Cublas.supportedMajors(13)).containsExactly(13, 12);
        assertThat(Cublas.supportedMajors(12)).containsExactly(12);
        assertThat(Cublas.supportedMajors(11)).isEmpty();
        assertThat(NativeBinding.sonameMajor("libcublas.so.13")).isEqualTo(13);
        assertThat(NativeLibraries.sonames("libnvrtc", 13, 12)).containsExactly("libnvrtc.so.13", "libnvrtc.so.12");
    }

    @Test
    void missingLibrariesAreNamedWithWhereTheyWereSought() {
        List<String> dirs = List.of("/opt/nowhere");
        assertThatThrownBy(() -> Cublas.loadMatching("libsae4j-absent", "cuBLAS", dirs, 13))
                .hasMessageStartingWith("cuBLAS not found: no libsae4j-absent.so.13 or libsae4j-absent.so.12 in "
                        + "/opt/nowhere");
    }

    @Test
    void searchesTheUsersDirectoriesThenLdLibraryPathThenTheUsualPlaces() {
        assertThat(NativeLibraries.searchDirectories(List.of("/mine"), "/ld/a::/ld/b"))
                .startsWith("/mine", "/ld/a", "/ld/b", "/usr/local/cuda/lib64",
                        "/usr/local/cuda/targets/x86_64-linux/lib")
                .contains("/usr/lib/x86_64-linux-gnu").doesNotHaveDuplicates();
    }

    @Test
    void compilesACubinForTheDeviceOrPtxForTheNewestArchitectureBelowIt() {
        int[] supported = {75, 80, 86, 89, 90, 100, 120};
        assertThat(Nvrtc.targetFor(90, supported)).isEqualTo("sm_90");
        assertThat(Nvrtc.targetFor(103, supported)).isEqualTo("compute_100");
        assertThatThrownBy(() -> Nvrtc.targetFor(70, supported)).hasMessageContaining("compute capability 7.0");
    }
}
