package io.github.sae4j.api.plugin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The installed plugins of one kind, found with {@link ServiceLoader} and looked up by name.
 *
 * <pre>{@code
 * BackendProvider java = PluginRegistry.load(BackendProvider.class, "backend").get("java");
 * }</pre>
 *
 * @param <T> the plugin interface, for example {@link io.github.sae4j.api.backend.BackendProvider}
 */
public final class PluginRegistry<T extends Plugin> {

    private final String kind;
    private final Map<String, T> byName;

    private PluginRegistry(String kind, Map<String, T> byName) {
        this.kind = kind;
        this.byName = byName;
    }

    /** Loads the plugins of {@code type} visible to the thread's context class loader (or this class's loader). */
    public static <T extends Plugin> PluginRegistry<T> load(Class<T> type, String kind) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return load(type, kind, loader != null ? loader : PluginRegistry.class.getClassLoader());
    }

    /**
     * Loads the plugins of {@code type} visible to {@code loader}.
     *
     * @param kind what users call this kind of plugin, used in messages ("backend", "SAE architecture")
     * @throws IllegalStateException if two plugins share a name or a plugin cannot be instantiated
     */
    public static <T extends Plugin> PluginRegistry<T> load(Class<T> type, String kind, ClassLoader loader) {
        Objects.requireNonNull(type, "type");
        Map<String, T> found = new LinkedHashMap<>();
        ServiceLoader<T> services = ServiceLoader.load(type, loader);
        try {
            for (T plugin : services) {
                String name = plugin.name();
                if (name == null || name.isBlank()) {
                    throw new IllegalStateException(kind + " plugin " + plugin.getClass().getName() + " has no name");
                }
                T previous = found.putIfAbsent(name, plugin);
                if (previous != null && previous.getClass() != plugin.getClass()) {
                    throw new IllegalStateException("Two " + kind + " plugins are both named '" + name + "': "
                            + previous.getClass().getName() + " and " + plugin.getClass().getName()
                            + ". Remove one of their jars from the class path.");
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new IllegalStateException("A " + kind + " plugin could not be loaded: " + e.getMessage(), e);
        }
        List<T> sorted = new ArrayList<>(found.values());
        sorted.sort(Comparator.comparing(Plugin::name));
        Map<String, T> ordered = new LinkedHashMap<>();
        sorted.forEach(p -> ordered.put(p.name(), p));
        return new PluginRegistry<>(kind, Collections.unmodifiableMap(ordered));
    }

    /** What users call this kind of plugin. */
    public String kind() {
        return kind;
    }

    /** The installed plugins, sorted by name. */
    public List<T> installed() {
        return List.copyOf(byName.values());
    }

    /** The installed names, sorted. */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    public Optional<T> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * The plugin with this name.
     *
     * @throws PluginNotFoundException naming the installed plugins of this kind, if none has this name
     */
    public T get(String name) {
        T plugin = byName.get(name);
        if (plugin == null) {
            throw new PluginNotFoundException(kind, name, names());
        }
        return plugin;
    }
}
