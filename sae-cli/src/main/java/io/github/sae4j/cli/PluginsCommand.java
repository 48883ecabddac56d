package io.github.sae4j.cli;

import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.api.plugin.Plugin;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.api.text.SentenceSourceProvider;
import io.github.sae4j.core.Plugins;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Lists the installed plugins of every kind. */
@Command(name = "plugins", description = "List installed backends, SAE architectures and other plugins.")
final class PluginsCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        for (PluginRegistry<? extends Plugin> registry : List.of(Plugins.backends(), Plugins.architectures(),
                Plugins.activationSources(), Plugins.languageModels(), Plugins.sentenceSources(), Plugins.labelers(), Plugins.metricsSinks())) {
            out.println(registry.kind() + "s:");
            if (registry.installed().isEmpty()) {
                out.println("  (none installed)");
            }
            for (Plugin p : registry.installed()) {
                String note = p instanceof BackendProvider b && b.unavailableReason() != null
                        ? "  [unavailable: " + b.unavailableReason() + "]" : "";
                out.printf("  %-14s %s%s%n", p.name(), p.description(), note);
            }
        }
    }
}
