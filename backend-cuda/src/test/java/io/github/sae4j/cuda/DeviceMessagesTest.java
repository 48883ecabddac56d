package io.github.sae4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

// Restricted FFM methods are this class's purpose; sae4j runs with --enable-native-access=ALL-UNNAMED.
@SuppressWarnings("restricted")
class DeviceMessagesTest {

    @Test
    void outOfMemoryNamesTheRequestTheFreeAndTotalMemoryAndTheFix() {
        String m = CudaDevice.outOfMemoryMessage("0 (NVIDIA H200)", 4096L * 65536 * 4, "F32 tensor [4096, 65536]",
                512L << 20, 141L << 30);
        assertThat(m).isEqualTo("cuda device 0 (NVIDIA H200) is out of memory: F32 tensor [4096, 65536] needs "
                + "1.00 GiB, but only 512.0 MiB of 141.00 GiB are free; use a smaller batch size (--batch-size) or "
                + "fewer latents, or free the GPU of other processes (nvidia-smi)");
    }

    @Test
    void noDeviceSaysWhatToCheck() {
        assertThat(CudaBackend.noDeviceMessage("/usr/lib/x86_64-linux-gnu/libcuda.so.1"))
                .startsWith("no CUDA device").contains("cuDeviceGetCount is 0").contains("--backend java");
    }

    @Test
    void launchGeometry() {
        assertThat(CudaOps.elementwiseBlocks(0)).isZero();
        assertThat(CudaOps.elementwiseBlocks(257)).isEqualTo(2);
        assertThat(CudaOps.elementwiseBlocks(1L << 40)).isEqualTo(CudaOps.MAX_BLOCKS);
        assertThat(CudaOps.nextPowerOfTwo(1)).isEqualTo(1);
        assertThat(CudaOps.nextPowerOfTwo(262144)).isEqualTo(262144);
        assertThat(CudaOps.nextPowerOfTwo(262145)).isEqualTo(524288);
    }

    @Test
    void kernelArgumentsHaveTheirCSizes() {
        KernelArgs args = new KernelArgs().ptr(1L).i64(2L).i32(3).f32(4f);
        assertThat(args.sizes()).containsExactly(8, 8, 4, 4);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var array = args.build(arena);
            var third = array.getAtIndex(java.lang.foreign.ValueLayout.ADDRESS, 2).reinterpret(4);
            assertThat(third.get(java.lang.foreign.ValueLayout.JAVA_INT, 0)).isEqualTo(3);
        }
    }
}
