package io.github.sae4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CudaOptionsTest {

    @Test
    void defaultsAreFp32AllDevicesAndTheUsualLibraryPlaces() {
        CudaOptions o = CudaOptions.parse(Map.of());
        assertThat(o).isEqualTo(CudaOptions.defaults());
        assertThat(o.tf32()).isFalse();
        assertThat(o.devices()).isEmpty();
        assertThat(o.libraryDirs()).isEmpty();
    }

    @Test
    void parsesEveryOption() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tf32", " TRUE ");
        m.put("libs", "/a/lib:/b/lib");
        m.put("devices", "1, 0");
        CudaOptions o = CudaOptions.parse(m);
        assertThat(o.tf32()).isTrue();
        assertThat(o.libraryDirs()).containsExactly("/a/lib", "/b/lib");
        assertThat(o.devices()).containsExactly(1, 0);
    }

    @Test
    void rejectsWhatItCannotUseSayingWhatIsAccepted() {
        assertThatThrownBy(() -> CudaOptions.parse(Map.of("tf32", "yes")))
                .hasMessage("cuda backend option tf32 must be true or false, got 'yes'");
        assertThatThrownBy(() -> CudaOptions.parse(Map.of("devices", "0,0")))
                .hasMessageContaining("distinct device ordinals");
        assertThatThrownBy(() -> CudaOptions.parse(Map.of("devices", "-1"))).hasMessageContaining("'-1'");
        assertThatThrownBy(() -> CudaOptions.parse(Map.of("libs", " : "))).hasMessageContaining("libs needs");
        assertThatThrownBy(() -> CudaOptions.parse(Map.of("thread", "2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no option 'thread'");
        assertThat(CudaOptions.parse(Map.of("libs", "/x")).libraryDirs()).isEqualTo(List.of("/x"));
    }
}
