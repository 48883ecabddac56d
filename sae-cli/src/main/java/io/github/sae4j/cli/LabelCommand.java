package io.github.sae4j.cli;

import io.github.sae4j.api.label.Labeler;
import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.api.label.LatentLabel;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.interpret.TopActivationReader;
import io.github.sae4j.core.label.LabelStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j label}: label latents from their top-activating sentences. */
@Command(name = "label", sortOptions = false, description = {
        "Label latents from the top-activating sentences 'sae4j top-activations' found: with Claude (Message Batches;",
        "needs ANTHROPIC_API_KEY unless --labeler-option dry-run=true) or offline (distinctive tokens, no key).",
        "Writes labels.jsonl and labels.parquet; a rerun after a crash sends nothing twice."})
final class LabelCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--top", required = true, paramLabel = "DIR", description = "the output directory of top-activations")
    Path top;

    @Option(names = "--labeler", defaultValue = "offline", description = "claude or offline (default ${DEFAULT-VALUE})")
    String labeler;

    @Option(names = "--labeler-option", paramLabel = "KEY=VALUE", description = "labeler option (repeatable)")
    Map<String, String> options = new LinkedHashMap<>();

    @Option(names = "--latents", paramLabel = "RANGES", description = "which latents, e.g. 0-99,512 (default: all)")
    String latents;

    @Option(names = "--out", paramLabel = "DIR", description = "where labels go (default: the --top directory)")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        BitSet chosen = latents == null ? null : parseRanges(latents);
        List<LatentExamples> examples = TopActivationReader.examples(top, l -> chosen == null || chosen.get(l));
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no latent with examples in " + top + (latents == null ? "" : " among "
                    + latents) + "; check the latents and the top-activations run");
        }
        Path dir = out != null ? out : top;
        Path state = dir.resolve("state-" + labeler);
        long start = System.nanoTime();
        try (Labeler l = Plugins.labelers().get(labeler).open(options)) {
            o.printf(Locale.ROOT, "labeling %d latents with %s%s%n", examples.size(), labeler,
                    l.model().isEmpty() ? "" : " (" + l.model() + ")");
            o.flush();
            List<LatentLabel> labels = l.label(examples, state, (finished, total) -> {
                o.printf(Locale.ROOT, "  %d/%d latents%n", finished, total);
                o.flush();
            });
            if (Boolean.parseBoolean(options.getOrDefault("dry-run", "false"))) {
                o.println("dry run: nothing sent and no labels written; the requests and the cost estimate are in " + state);
                return 0;
            }
            List<LabelStore.StoredLabel> stored = new ArrayList<>();
            long failed = 0;
            for (LatentLabel label : labels) {
                stored.add(new LabelStore.StoredLabel(label, labeler, l.model(), l.promptVersion()));
                failed += label.succeeded() ? 0 : 1;
            }
            LabelStore.write(dir, stored);
            // A labeler that calls a paid API leaves its token usage and cost beside its state (claude: usage.json).
            Path usage = state.resolve("usage.json");
            if (java.nio.file.Files.isRegularFile(usage)) {
                var u = new com.fasterxml.jackson.databind.ObjectMapper().readTree(usage.toFile());
                o.printf(Locale.ROOT, "usage: %,d input + %,d output tokens, about $%.4f (details: %s)%n",
                        u.path("inputTokens").asLong() + u.path("cacheCreationInputTokens").asLong()
                                + u.path("cacheReadInputTokens").asLong(), u.path("outputTokens").asLong(),
                        u.path("costUsd").asDouble(), usage);
            }
            o.printf(Locale.ROOT, "%d labels (%d failed) in %.1f s; wrote %s and %s%n", labels.size(), failed,
                    (System.nanoTime() - start) / 1e9, dir.resolve(LabelStore.JSONL), dir.resolve(LabelStore.PARQUET));
            return 0;
        }
    }

    /** "0-9,12" as a set of latents. */
    static BitSet parseRanges(String s) {
        BitSet set = new BitSet();
        for (String part : s.split(",")) {
            String p = part.trim();
            try {
                int dash = p.indexOf('-');
                if (dash > 0) {
                    set.set(Integer.parseInt(p.substring(0, dash).trim()), Integer.parseInt(p.substring(dash + 1).trim()) + 1);
                } else {
                    set.set(Integer.parseInt(p));
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("--latents takes ranges like 0-99,512; '" + p + "' is not one", e);
            }
        }
        return set;
    }
}
