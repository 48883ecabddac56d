package io.github.sae4j.claude;

import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.LatentExamples;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * The labeling prompt: a versioned text resource ({@code prompt-v1.txt}) with the latent's top examples filled in.
 * Any change to the text or to how examples are rendered is a new version, so that every label records exactly
 * which prompt produced it and a state directory never mixes two.
 */
public final class LabelPrompt {

    /** The version recorded with every label and in the state file's fingerprint. */
    public static final String VERSION = "v1";
    /** Tokens below this fraction of the strongest activation shown are left unmarked: they are noise to a reader. */
    static final float MARK_FRACTION = 0.1f;

    private final String template;

    private LabelPrompt(String template) {
        this.template = template;
    }

    /** The prompt of {@link #VERSION}, read from the class path. */
    public static LabelPrompt current() {
        String resource = "prompt-" + VERSION + ".txt";
        try (InputStream in = LabelPrompt.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the prompt resource io/github/sae4j/claude/" + resource
                        + " is missing from the interpret-claude jar; rebuild the module");
            }
            return new LabelPrompt(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the prompt resource " + resource, e);
        }
    }

    public String template() {
        return template;
    }

    /** The prompt for one latent, with at most {@code maxExamples} of its examples (best first). */
    public String render(LatentExamples latent, int maxExamples) {
        List<ActivatingExample> shown = latent.examples().subList(0, Math.min(maxExamples, latent.examples().size()));
        float max = 0;
        for (ActivatingExample e : shown) {
            for (float a : e.activations()) {
                max = Math.max(max, a);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shown.size(); i++) {
            if (i > 0) {
                sb.append("\n\n");
            }
            ActivatingExample e = shown.get(i);
            sb.append("Example ").append(i + 1).append(":\n").append(marked(e, max));
        }
        if (shown.isEmpty()) {
            sb.append("(this latent has no activating examples)");
        }
        return template.replace("{{examples}}", sb.toString());
    }

    /** The example's text with every token at or above {@link #MARK_FRACTION} of {@code max} marked «token|n». */
    static String marked(ActivatingExample example, float max) {
        StringBuilder sb = new StringBuilder();
        List<String> tokens = example.tokens();
        for (int t = 0; t < tokens.size(); t++) {
            String token = tokens.get(t).replace("\r", "").replace("\n", "\\n");
            float a = example.activations()[t];
            if (max > 0 && a >= MARK_FRACTION * max) {
                int strength = Math.max(1, Math.min(10, Math.round(10 * a / max)));
                // A leading space stays outside the mark, so «word|n» reads as the word.
                int lead = 0;
                while (lead < token.length() && token.charAt(lead) == ' ') {
                    lead++;
                }
                sb.append(token, 0, lead).append('«').append(token.substring(lead)).append('|')
                        .append(String.format(Locale.ROOT, "%d", strength)).append('»');
            } else {
                sb.append(token);
            }
        }
        return sb.toString();
    }
}
