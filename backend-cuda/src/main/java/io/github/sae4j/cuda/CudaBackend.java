package io.github.sae4j.cuda;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.cuda.ffm.CudaDriver;
import io.github.sae4j.cuda.ffm.Cublas;
import io.github.sae4j.cuda.ffm.NativeLibraries;
import io.github.sae4j.cuda.ffm.Nvrtc;
import java.util.ArrayList;
import java.util.List;

/** The cuda backend: one {@link CudaDevice} per GPU (or per ordinal named by the {@code devices} option). */
public final class CudaBackend implements Backend {

    public static final String NAME = "cuda";

    private final List<Device> devices;
    private final String libraries;

    /**
     * Loads the driver, cuBLAS and NVRTC and opens each device.
     *
     * @throws IllegalStateException saying what is missing (no driver, no device, a driver older than the libraries,
     *                               no cuBLAS or NVRTC) and what to do
     */
    public CudaBackend(CudaOptions options) {
        List<String> dirs = NativeLibraries.searchDirectories(options.libraryDirs());
        CudaDriver driver = CudaDriver.load(dirs);
        int driverMajor = driver.driverVersion() / 1000;
        int count = driver.deviceCount();
        if (count == 0) {
            throw new IllegalStateException(noDeviceMessage(driver.location()));
        }
        Cublas cublas = Cublas.load(dirs, driverMajor);
        Nvrtc nvrtc = Nvrtc.load(dirs, driverMajor);
        this.libraries = driver.location() + " (CUDA " + driverMajor + " driver), " + cublas.location() + ", "
                + nvrtc.location();
        List<Integer> ordinals = options.devices();
        if (ordinals.isEmpty()) {
            ordinals = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ordinals.add(i);
            }
        }
        List<Device> opened = new ArrayList<>();
        try {
            for (int i = 0; i < ordinals.size(); i++) {
                int ordinal = ordinals.get(i);
                if (ordinal >= count) {
                    throw new IllegalArgumentException("cuda backend option devices names device " + ordinal
                            + ", but this machine has " + count + " CUDA device" + (count == 1 ? "" : "s"));
                }
                opened.add(new CudaDevice(this, i, ordinal, driver, cublas, nvrtc, options.tf32()));
            }
        } catch (RuntimeException e) {
            for (Device d : opened) {
                try {
                    ((CudaDevice) d).close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        this.devices = List.copyOf(opened);
    }

    static String noDeviceMessage(String driverLocation) {
        return "no CUDA device: the NVIDIA driver (" + driverLocation + ") is installed but cuDeviceGetCount is 0; "
                + "check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --backend java";
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<Device> devices() {
        return devices;
    }

    /** The libraries this backend is bound to, for logs. */
    public String libraries() {
        return libraries;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Device d : devices) {
            try {
                ((CudaDevice) d).close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw new IllegalStateException("cuda backend: releasing its devices failed: " + first.getMessage(), first);
        }
    }
}
