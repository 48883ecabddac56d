package io.github.sae4j.api.plugin;

import java.util.List;

/** Thrown when no installed plugin of a kind has the requested name; the message lists the installed names. */
public final class PluginNotFoundException extends IllegalArgumentException {

    private final String kind;
    private final String requested;
    private final List<String> installed;

    public PluginNotFoundException(String kind, String requested, List<String> installed) {
        super(message(kind, requested, installed));
        this.kind = kind;
        this.requested = requested;
        this.installed = List.copyOf(installed);
    }

    private static String message(String kind, String requested, List<String> installed) {
        String list = installed.isEmpty() ? "none" : String.join(", ", installed);
        return "No " + kind + " named '" + requested + "' is installed. Installed " + kind + "s: " + list
                + ". Put the jar that provides it on the class path (for the sae4j launcher: SAE4J_CLASSPATH).";
    }

    public String kind() {
        return kind;
    }

    public String requested() {
        return requested;
    }

    public List<String> installed() {
        return installed;
    }
}
