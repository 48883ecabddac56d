package io.github.sae4j.api.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PluginRegistryTest {

    /** A plugin kind for this test, with two implementations registered in the test's META-INF/services. */
    public interface Greeter extends Plugin {
        String greet();
    }

    public static final class English implements Greeter {
        @Override
        public String name() {
            return "english";
        }

        @Override
        public String greet() {
            return "hello";
        }
    }

    public static final class French implements Greeter {
        @Override
        public String name() {
            return "french";
        }

        @Override
        public String greet() {
            return "bonjour";
        }
    }

    @Test
    void findsInstalledPluginsByName() {
        PluginRegistry<Greeter> registry = PluginRegistry.load(Greeter.class, "greeter");
        assertThat(registry.names()).containsExactly("english", "french");
        assertThat(registry.get("french").greet()).isEqualTo("bonjour");
        assertThat(registry.find("german")).isEmpty();
    }

    @Test
    void anUnknownNameFailsWithTheInstalledNames() {
        PluginRegistry<Greeter> registry = PluginRegistry.load(Greeter.class, "greeter");
        assertThatThrownBy(() -> registry.get("german"))
                .isInstanceOf(PluginNotFoundException.class)
                .hasMessageContaining("No greeter named 'german' is installed")
                .hasMessageContaining("Installed greeters: english, french")
                .satisfies(e -> assertThat(((PluginNotFoundException) e).installed()).containsExactly("english", "french"));
    }

    public interface Nothing extends Plugin {
    }

    @Test
    void aKindWithNothingInstalledSaysNone() {
        assertThatThrownBy(() -> PluginRegistry.load(Nothing.class, "thing").get("x"))
                .hasMessageContaining("Installed things: none");
    }
}
