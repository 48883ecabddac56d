package io.github.sae4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.activation.ActivationSourceInfo;
import io.github.sae4j.api.activation.ActivationStatistics;
import io.github.sae4j.api.model.LanguageModelProvider;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.io.Safetensors;
import io.github.sae4j.core.store.ActivationDataset;
import io.github.sae4j.core.store.ActivationShardReader;
import io.github.sae4j.core.synth.GroundTruth;
import io.github.sae4j.core.train.Trainer;
import io.github.sae4j.core.train.TrainingCheckpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sae4j info}: what a shard, dataset, SAE, training run, safetensors file or model holds. */
@Command(name = "info", description = {
        "Describe files sae4j reads and writes: an activation shard (.arrow) or shard directory, an SAE directory,",
        "a training run directory, a .safetensors file, or a model (via the installed model plugins)."})
final class InfoCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "files or directories to describe")
    List<Path> paths;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        for (Path path : paths) {
            describe(path, out);
            out.println();
        }
        return 0;
    }

    private void describe(Path path, PrintWriter out) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString());
        }
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve(Trainer.CONFIG_FILE))) {
                describeRun(path, out);
            } else if (Files.exists(path.resolve(SaeCheckpoint.CONFIG)) && Files.exists(path.resolve(SaeCheckpoint.WEIGHTS))) {
                describeSae(path, out);
            } else if (hasShards(path)) {
                describeDataset(path, out);
            } else if (!describeModel(path, out)) {
                throw new IOException(path + " is not something sae4j knows: no shard-*.arrow, no cfg.json + "
                        + "sae.safetensors, no train-config.json, and no installed model plugin recognizes it");
            }
        } else if (name.endsWith(".arrow")) {
            describeShard(path, out);
        } else if (name.endsWith(".safetensors")) {
            describeSafetensors(path, out);
        } else if (!describeModel(path, out)) {
            throw new IOException(path + ": unknown file type; sae4j info reads .arrow shards, .safetensors files, "
                    + "SAE and run directories" + (name.endsWith(".gguf") ? ", and .gguf models once a model plugin "
                    + "(model-llama3) is installed" : ""));
        }
    }

    private static boolean hasShards(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().matches("shard-\\d+\\.arrow"));
        }
    }

    private void describeDataset(Path dir, PrintWriter out) throws IOException {
        try (ActivationDataset ds = ActivationDataset.open(dir)) {
            ActivationSourceInfo info = ds.info();
            out.println(dir + ": activation dataset");
            out.printf(Locale.ROOT, "  shards      %d%n", ds.shards().size());
            printSourceInfo(info, out);
            printStatistics(ds.statistics(), out);
            if (Files.exists(dir.resolve(GroundTruth.FILE))) {
                GroundTruth gt = GroundTruth.read(dir.resolve(GroundTruth.FILE));
                out.printf("  ground truth %d features of d_model %d (%s)%n", gt.features(), gt.dModel(), GroundTruth.FILE);
            }
        }
    }

    private static void printSourceInfo(ActivationSourceInfo info, PrintWriter out) {
        out.printf(Locale.ROOT, "  tokens      %d%n", info.tokens());
        out.printf(Locale.ROOT, "  d_model     %d%n", info.dModel());
        out.printf("  model       %s%n", info.model());
        out.printf("  hook point  %s%n", info.hookPoint());
        if (!info.metadata().isEmpty()) {
            out.printf("  metadata    %s%n", new java.util.TreeMap<>(info.metadata()));
        }
    }

    private static void printStatistics(ActivationStatistics stats, PrintWriter out) {
        if (stats == null) {
            return;
        }
        double meanNorm = 0;
        for (double m : stats.mean()) {
            meanNorm += m * m;
        }
        out.printf(Locale.ROOT, "  statistics  ||mean|| = %.4g, E||x||^2 = %.4g, total variance = %.4g (over %d rows)%n",
                Math.sqrt(meanNorm), stats.meanSquaredNorm(), stats.totalVariance(), stats.count());
    }

    private void describeShard(Path file, PrintWriter out) throws IOException {
        try (ActivationShardReader reader = ActivationShardReader.open(file)) {
            out.println(file + ": activation shard (Arrow IPC file)");
            out.printf(Locale.ROOT, "  rows        %d in %d record batches%n", reader.rows(), reader.batchCount());
            out.printf(Locale.ROOT, "  d_model     %d%n", reader.dModel());
            out.printf("  dtype       %s%n", reader.dtype());
            out.println("  columns     sentence_id int64, position int32, token_id int32, activation fixed_size_list["
                    + reader.dModel() + "]");
        }
    }

    private void describeSae(Path dir, PrintWriter out) throws IOException {
        SaeSpec s = SaeCheckpoint.readSpec(dir);
        out.println(dir + ": SAE");
        out.printf("  architecture %s %s%n", s.architecture(), s.settings());
        out.printf(Locale.ROOT, "  d_in        %d%n", s.dIn());
        out.printf(Locale.ROOT, "  latents     %d%n", s.dSae());
        out.printf(Locale.ROOT, "  input scale %.6g%n", s.inputScale());
        if (!s.metadata().isEmpty()) {
            out.printf("  provenance  %s%n", s.metadata());
        }
        describeSafetensors(dir.resolve(SaeCheckpoint.WEIGHTS), out);
    }

    private void describeRun(Path dir, PrintWriter out) throws IOException {
        JsonNode config = JSON.readTree(dir.resolve(Trainer.CONFIG_FILE).toFile());
        out.println(dir + ": training run");
        out.printf("  architecture %s, latents %s, settings %s%n", config.path("architecture").asText(),
                config.path("latents").asText(), config.path("settings"));
        out.printf("  data        %s%n", config.path("data").asText());
        out.printf("  steps       %s of batch %s, lr %s, seed %s%n", config.path("steps").asText(),
                config.path("batch_size").asText(), config.path("learning_rate").asText(), config.path("seed").asText());
        List<Path> checkpoints = TrainingCheckpoint.list(dir.resolve(Trainer.CHECKPOINTS));
        if (checkpoints.isEmpty()) {
            out.println("  checkpoints none yet");
        } else {
            TrainingCheckpoint.State last = TrainingCheckpoint.readState(checkpoints.getLast());
            out.printf(Locale.ROOT, "  checkpoints %d, latest at step %d (%d tokens): %s%n", checkpoints.size(),
                    last.step(), last.tokens(), checkpoints.getLast());
        }
        Path summary = dir.resolve(Trainer.SUMMARY);
        if (Files.exists(summary)) {
            out.printf("  finished    %s%n", JSON.readTree(summary.toFile()).path("validation"));
        }
        if (Files.exists(dir.resolve(Trainer.FINAL_SAE))) {
            out.printf("  final SAE   %s%n", dir.resolve(Trainer.FINAL_SAE));
        }
    }

    private void describeSafetensors(Path file, PrintWriter out) throws IOException {
        try (Safetensors.Reader reader = Safetensors.open(file)) {
            out.println(file + ": safetensors, " + reader.tensors().size() + " tensors, " + Files.size(file) + " bytes");
            for (Safetensors.Info t : reader.tensors().values()) {
                out.printf("  %-28s %-5s %s%n", t.name(), t.dtype(), Arrays.toString(t.shape()));
            }
            if (!reader.metadata().isEmpty()) {
                out.printf("  metadata    %s%n", reader.metadata());
            }
        }
    }

    private boolean describeModel(Path path, PrintWriter out) throws IOException {
        for (LanguageModelProvider p : Plugins.languageModels().installed()) {
            if (p.canOpen(path)) {
                out.println(path + ": model (" + p.name() + ")");
                out.println(p.describe(path));
                return true;
            }
        }
        Path config = Files.isDirectory(path) ? path.resolve("config.json") : null;
        if (config != null && Files.exists(config)) {
            JsonNode c = JSON.readTree(config.toFile());
            out.println(path + ": Hugging Face model directory (no installed model plugin reads it)");
            for (String field : List.of("model_type", "architectures", "hidden_size", "num_hidden_layers",
                    "num_attention_heads", "num_key_value_heads", "intermediate_size", "vocab_size",
                    "max_position_embeddings", "rope_theta", "tie_word_embeddings", "torch_dtype")) {
                if (c.has(field)) {
                    out.printf("  %-24s %s%n", field, c.get(field));
                }
            }
            try (var files = Files.list(path)) {
                for (Path f : files.filter(f -> f.toString().endsWith(".safetensors")).sorted().toList()) {
                    try (Safetensors.Reader r = Safetensors.open(f)) {
                        out.printf("  %s: %d tensors%n", f.getFileName(), r.tensors().size());
                    }
                }
            }
            return true;
        }
        return false;
    }
}
