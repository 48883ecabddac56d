package io.github.sae4j.api.plugin;

/**
 * Something sae4j finds by name at run time through {@link java.util.ServiceLoader}: a backend, an
 * SAE architecture, a model format, a data source, a labeler or a metrics sink.
 *
 * <p>Implementations are listed in {@code META-INF/services/<interface name>} of their jar and
 * need a public no-argument constructor.
 */
public interface Plugin {

    /** The name users type to select this plugin, for example {@code topk} or {@code java}. Lower case, no spaces. */
    String name();

    /** One line for help texts and for the list of installed plugins. */
    default String description() {
        return "";
    }
}
