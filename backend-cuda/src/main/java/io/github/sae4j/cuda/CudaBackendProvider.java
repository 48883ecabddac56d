package io.github.sae4j.cuda;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.cuda.ffm.CudaDriver;
import io.github.sae4j.cuda.ffm.Cublas;
import io.github.sae4j.cuda.ffm.NativeLibraries;
import io.github.sae4j.cuda.ffm.Nvrtc;
import java.util.List;
import java.util.Map;

/**
 * Registers the cuda backend as {@code cuda}. Options: {@code tf32} (default false), {@code libs} (extra library
 * directories), {@code devices} (ordinals; default all). Without a driver, a GPU, cuBLAS or NVRTC it reports itself
 * unavailable with the reason; it never crashes the JVM over it.
 */
public final class CudaBackendProvider implements BackendProvider {

    private static volatile String cachedReason;
    private static volatile boolean probed;

    @Override
    public String name() {
        return CudaBackend.NAME;
    }

    @Override
    public String description() {
        return "NVIDIA GPUs: cuBLAS GEMM and NVRTC kernels through FFM (the machine's driver and CUDA 12/13 libraries)";
    }

    @Override
    public String unavailableReason() {
        if (!probed) {
            synchronized (CudaBackendProvider.class) {
                if (!probed) {
                    cachedReason = probe(List.of());
                    probed = true;
                }
            }
        }
        return cachedReason;
    }

    /** Why the backend cannot run with these extra library directories, or null when it can. */
    static String probe(List<String> extraDirs) {
        try {
            List<String> dirs = NativeLibraries.searchDirectories(extraDirs);
            CudaDriver driver = CudaDriver.load(dirs);
            int driverMajor = driver.driverVersion() / 1000;
            if (driver.deviceCount() == 0) {
                return CudaBackend.noDeviceMessage(driver.location());
            }
            Cublas.load(dirs, driverMajor);
            Nvrtc.load(dirs, driverMajor);
            return null;
        } catch (RuntimeException | LinkageError e) {
            return e.getMessage() != null ? e.getMessage() : e.toString();
        }
    }

    @Override
    public Backend open(Map<String, String> options) {
        CudaOptions parsed = CudaOptions.parse(options);
        try {
            return new CudaBackend(parsed);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("backend 'cuda' cannot run here: " + e.getMessage(), e);
        }
    }
}
