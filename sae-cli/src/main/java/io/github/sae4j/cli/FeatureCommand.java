package io.github.sae4j.cli;

import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.core.interpret.TopActivationReader;
import io.github.sae4j.core.label.LabelStore;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sae4j feature N}: one latent, as a person reads it. */
@Command(name = "feature", sortOptions = false, description = {
        "Show a latent: its label and confidence, firing density, mean activation, activation histogram and its top",
        "sentences with the tokens where it fires highlighted."})
final class FeatureCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "LATENT", description = "the latent's index")
    int latent;

    @Option(names = "--top", required = true, paramLabel = "DIR", description = "the output directory of top-activations")
    Path top;

    @Option(names = "--labels", paramLabel = "DIR", description = "where labels.jsonl is (default: the --top directory)")
    Path labels;

    @Option(names = "--examples", defaultValue = "10", description = "sentences shown (default ${DEFAULT-VALUE})")
    int examples;

    @Option(names = "--color", negatable = true,
            description = "highlight with terminal colours; --no-color marks tokens as [[token]] (default: colours on a terminal)")
    Boolean color;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        boolean ansi = color != null ? color : System.console() != null;
        TopActivationReader.LatentRow row = TopActivationReader.latents(top).stream().filter(r -> r.latent() == latent)
                .findFirst().orElseThrow(() -> new IllegalArgumentException("latent " + latent + " is not in " + top
                        + " (the SAE has fewer latents)"));
        o.printf("latent %d%n", latent);
        Path labelDir = labels != null ? labels : top;
        if (Files.isRegularFile(labelDir.resolve(LabelStore.JSONL))) {
            LabelStore.read(labelDir).stream().filter(s -> s.label().latent() == latent).findFirst().ifPresentOrElse(
                    s -> o.printf(Locale.ROOT, "  label: %s  (confidence %.2f, %s%s)%n",
                            s.label().succeeded() ? s.label().label() : "failed: " + s.label().error(),
                            s.label().confidence(), s.labeler(), s.model().isEmpty() ? "" : " " + s.model()),
                    () -> o.println("  label: (not labeled)"));
        } else {
            o.println("  label: (no labels yet: sae4j label --top " + top + ")");
        }
        o.printf(Locale.ROOT, "  density: %.4f%% of tokens (%d)%s, mean activation when firing %.4g%n",
                100 * row.density(), row.firingTokens(), row.dead() ? " - dead" : "", row.meanActivation());
        o.println("  histogram (log2 bins): " + sparkline(row.histogram()));
        List<ActivatingExample> list = TopActivationReader.examples(top, latent).examples();
        if (list.isEmpty()) {
            o.println("  no activating sentences");
            return 0;
        }
        for (int i = 0; i < Math.min(examples, list.size()); i++) {
            ActivatingExample e = list.get(i);
            o.printf(Locale.ROOT, "  %2d. %.3f  %s%n", i + 1, e.score(), highlight(e, ansi));
        }
        return 0;
    }

    /** The sentence with the tokens above half its peak marked: bold yellow on a terminal, [[...]] elsewhere. */
    static String highlight(ActivatingExample e, boolean ansi) {
        float peak = 0;
        for (float a : e.activations()) {
            peak = Math.max(peak, a);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < e.tokens().size(); i++) {
            String t = e.tokens().get(i).replace("\n", "\\n");
            boolean on = peak > 0 && e.activations()[i] >= 0.5f * peak;
            if (on) {
                sb.append(ansi ? "\u001b[1;33m" + t + "\u001b[0m" : "[[" + t + "]]");
            } else {
                sb.append(t);
            }
        }
        return sb.toString();
    }

    private static String sparkline(int[] h) {
        String bars = " ▁▂▃▄▅▆▇█";
        int max = 1;
        for (int c : h) {
            max = Math.max(max, c);
        }
        StringBuilder sb = new StringBuilder("|");
        for (int c : h) {
            sb.append(bars.charAt(c == 0 ? 0 : 1 + (int) ((bars.length() - 2) * (long) c / max)));
        }
        return sb.append("| 2^-12 .. 2^11").toString();
    }
}
