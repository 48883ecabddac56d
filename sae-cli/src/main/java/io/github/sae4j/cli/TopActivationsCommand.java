package io.github.sae4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.interpret.Aggregation;
import io.github.sae4j.core.interpret.TopActivationMiner;
import io.github.sae4j.core.interpret.TopActivationWriter;
import io.github.sae4j.core.store.ActivationDataset;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j top-activations}: every latent's top sentences and statistics, from stored activations. */
@Command(name = "top-activations", sortOptions = false, description = {
        "Find, for every latent of an SAE, the sentences that activate it most (every latent active in a sentence is",
        "credited, not only the strongest), with its activation at every token, and per-latent firing density, mean",
        "activation, a histogram and the dead latents. Resumes from the partial results in OUT/state."})
final class TopActivationsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--sae", required = true, paramLabel = "DIR", description = "SAE directory (sae.safetensors + cfg.json)")
    Path sae;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "activations with provenance (a capture directory of one hook point, or a dataset)")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--top", defaultValue = "50", description = "sentences kept per latent (default ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--aggregation", defaultValue = "max",
            description = "a sentence's score for a latent: max, mean or last (token) (default ${DEFAULT-VALUE})")
    String aggregation;

    @Option(names = "--batch-rows", defaultValue = "4096", description = "rows encoded at a time (default ${DEFAULT-VALUE})")
    int batchRows;

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf",
            description = "model whose tokenizer shows the tokens (default: the model named in the capture's capture.json)")
    Path model;

    @Option(names = "--backend", defaultValue = "java", description = "compute backend (default ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--backend-option", description = "backend option name=value (repeatable)")
    Map<String, String> backendOptions = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        if (top < 1 || batchRows < 1) {
            throw new IllegalArgumentException("--top and --batch-rows must be positive");
        }
        Aggregation agg = Aggregation.parse(aggregation);
        Path dataset = Plugins.captureDataset(data);
        long start = System.nanoTime();
        try (Backend b = Plugins.openBackend(backend, backendOptions);
             Sae s = SaeCheckpoint.load(sae, b.devices().getFirst(), Plugins.architectures());
             ActivationDataset d = ActivationDataset.open(dataset)) {
            o.printf(Locale.ROOT, "mining %d latents over %d rows in %d shards of %s (%s, top %d)%n", s.spec().dSae(),
                    d.rows(), d.shards().size(), dataset, agg.name().toLowerCase(Locale.ROOT), top);
            o.flush();
            TopActivationMiner.Result r = TopActivationMiner.mine(d, s, agg, top, batchRows, out.resolve("state"),
                    n -> {
                        o.printf("  shard %d/%d%n", n, d.shards().size());
                        o.flush();
                    });
            Path modelPath = model != null ? model : modelOfCapture(data);
            List<TopActivationWriter.Example> examples;
            if (modelPath != null) {
                try (LanguageModel lm = Plugins.openModel(modelPath, Map.of())) {
                    examples = TopActivationWriter.examples(d, s, r.top(), lm.tokenizer());
                }
            } else {
                o.println("no model given or named by a capture.json: tokens are shown as ids");
                examples = TopActivationWriter.examples(d, s, r.top(), null);
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("sae4j.format", "sae4j.top-activations.v1");
            meta.put("sae", sae.toString());
            meta.put("activations", dataset.toString());
            meta.put("aggregation", agg.name().toLowerCase(Locale.ROOT));
            meta.put("top", String.valueOf(top));
            meta.put("tokens", String.valueOf(r.statistics().tokens()));
            TopActivationWriter.write(out, examples, r.statistics(), meta);
            int[] dead = r.statistics().dead();
            double seconds = (System.nanoTime() - start) / 1e9;
            o.printf(Locale.ROOT, "%d tokens, %d examples for %d latents, %d dead (never fired); %.1f s (%.0f tokens/s)%n",
                    r.statistics().tokens(), examples.size(), s.spec().dSae(), dead.length, seconds,
                    r.statistics().tokens() / seconds);
            o.println("wrote " + out.resolve(TopActivationWriter.EXAMPLES_FILE) + " and "
                    + out.resolve(TopActivationWriter.LATENTS_FILE));
            return 0;
        }
    }

    /** The model path a capture recorded, if the activations come from one and the path still exists. */
    private static Path modelOfCapture(Path data) throws java.io.IOException {
        for (Path p = data.toAbsolutePath(); p != null; p = p.getParent()) {
            Path manifest = p.resolve("capture.json");
            if (Files.isRegularFile(manifest)) {
                JsonNode path = new ObjectMapper().readTree(manifest.toFile()).at("/settings/model/path");
                if (path.isTextual() && Files.exists(Path.of(path.asText()))) {
                    return Path.of(path.asText());
                }
                return null;
            }
        }
        return null;
    }
}
