package io.github.sae4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.eval.DecoderFinetune;
import io.github.sae4j.core.eval.SplicedEvaluator;
import io.github.sae4j.core.io.AtomicFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j finetune-decoder}: undo shrinkage by fine-tuning the decoder with the encoder frozen. */
@Command(name = "finetune-decoder", sortOptions = false, description = {
        "Fine-tune an SAE's decoder with its encoder frozen (L0 unchanged; decoder rows free to grow, undoing",
        "shrinkage), report the L2 ratio before and after (and the CE loss recovered with --sentences), and save the",
        "result as a new SAE."})
final class FinetuneDecoderCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--sae", required = true, paramLabel = "DIR", description = "the SAE to start from")
    Path sae;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "the activations it was trained on")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where the fine-tuned SAE goes")
    Path out;

    @Option(names = "--steps", defaultValue = "500", description = "steps (default ${DEFAULT-VALUE})")
    long steps;

    @Option(names = "--lr", defaultValue = "1e-3", description = "learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--batch-size", defaultValue = "1024", description = "rows per step (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--sentences", paramLabel = "PATH", description = "held-out sentences: also report CE loss recovered")
    Path sentences;

    @Option(names = "--max-sentences", defaultValue = "128", description = "sentences for the loss (default ${DEFAULT-VALUE})")
    int maxSentences;

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf", description = "the model for --sentences (default: embedded)")
    Path model;

    @Option(names = "--backend", defaultValue = "java", description = "compute backend (default ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--backend-option", description = "backend option name=value (repeatable)")
    Map<String, String> backendOptions = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        if (Files.exists(out.resolve(SaeCheckpoint.CONFIG))) {
            throw new IllegalArgumentException(out + " already holds an SAE; choose another --out");
        }
        try (Backend b = Plugins.openBackend(backend, backendOptions);
             Sae s = SaeCheckpoint.load(sae, b.devices().getFirst(), Plugins.architectures());
             Sae original = SaeCheckpoint.load(sae, b.devices().getFirst(), Plugins.architectures());
             ActivationSource source = Plugins.openActivations(data)) {
            double fraction = Double.parseDouble(s.spec().metadata().getOrDefault("validation_fraction", "0.02"));
            o.printf(Locale.ROOT, "fine-tuning the decoder of %s (%d latents) for %d steps, encoder frozen%n", sae,
                    s.spec().dSae(), steps);
            o.flush();
            DecoderFinetune.Outcome r = DecoderFinetune.run(s, source, batchSize, steps, lr, 0, Math.max(fraction, 0.01),
                    65_536);
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("from", sae.toString());
            report.put("steps", steps);
            report.put("before", r.before().asMap());
            report.put("after", r.after().asMap());
            o.printf(Locale.ROOT, "                      before    after%n");
            o.printf(Locale.ROOT, "  L2 ratio            %.4f    %.4f   <- 1 is no shrinkage%n", r.before().l2Ratio(),
                    r.after().l2Ratio());
            o.printf(Locale.ROOT, "  FVU                 %.4f    %.4f%n", r.before().fvu(), r.after().fvu());
            o.printf(Locale.ROOT, "  L0                  %.2f     %.2f%n", r.before().l0(), r.after().l0());
            if (sentences != null) {
                ModelOptions mo = new ModelOptions();
                mo.model = model;
                mo.backend = backend;
                mo.modelOptions = new LinkedHashMap<>(backendOptions);
                try (LanguageModel lm = mo.open(); SentenceSource src = Plugins.openSentences(sentences, Map.of())) {
                    List<int[]> seqs = new ArrayList<>();
                    for (Sentence sentence : (Iterable<Sentence>) src::iterator) {
                        if (seqs.size() == maxSentences) {
                            break;
                        }
                        int[] ids = lm.tokenizer().encode(sentence.text(), false);
                        if (ids.length >= 2) {
                            seqs.add(Arrays.copyOf(ids, Math.min(192, ids.length)));
                        }
                    }
                    HookPoint hook = HookPoint.parse(s.spec().metadata().get("hook_point"));
                    SplicedEvaluator.Options opts = new SplicedEvaluator.Options(2048, 1, 0);
                    var e0 = SplicedEvaluator.evaluate(lm, original, hook, seqs, opts);
                    var e1 = SplicedEvaluator.evaluate(lm, s, hook, seqs, opts);
                    o.printf(Locale.ROOT, "  CE loss recovered   %.4f    %.4f%n", e0.lossRecovered(), e1.lossRecovered());
                    report.put("ce_loss_recovered", Map.of("before", e0.lossRecovered(), "after", e1.lossRecovered()));
                }
            }
            SaeCheckpoint.save(s, out);
            AtomicFiles.writeString(out.resolve("finetune.json"),
                    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
            o.println("wrote " + out + " (the fine-tuned SAE; finetune.json has the figures)");
            return 0;
        }
    }
}
