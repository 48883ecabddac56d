package io.github.sae4j.core.label;

import io.github.sae4j.api.label.Labeler;
import io.github.sae4j.api.label.LabelerProvider;
import java.util.List;
import java.util.Map;

/** {@code offline}: labels from the tokens where a latent fires, against the other latents; no API key, no network. */
public final class OfflineLabelerProvider implements LabelerProvider {

    static final String THRESHOLD = "threshold";
    static final String BROAD = "broad";
    static final List<String> OPTIONS = List.of(THRESHOLD, BROAD);

    @Override
    public String name() {
        return "offline";
    }

    @Override
    public String description() {
        return "names the tokens or bigrams where a latent fires (TF-IDF against the other latents); no network";
    }

    @Override
    public Labeler open(Map<String, String> options) {
        for (String key : options.keySet()) {
            if (!OPTIONS.contains(key)) {
                throw new IllegalArgumentException("unknown option '" + key + "' for the labeler '" + name()
                        + "'; valid options: " + String.join(", ", OPTIONS) + " (" + THRESHOLD
                        + "=F: a token activates at F times its sentence's peak, default "
                        + OfflineLabeler.DEFAULT_THRESHOLD + "; " + BROAD
                        + "=F: a latent on F of its sentences' tokens is labeled by whole sentences, default "
                        + OfflineLabeler.DEFAULT_BROAD + ")");
            }
        }
        return new OfflineLabeler(fraction(options, THRESHOLD, OfflineLabeler.DEFAULT_THRESHOLD),
                fraction(options, BROAD, OfflineLabeler.DEFAULT_BROAD));
    }

    private double fraction(Map<String, String> options, String key, double fallback) {
        String value = options.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            double f = Double.parseDouble(value.strip());
            if (f > 0 && f <= 1) {
                return f;
            }
        } catch (NumberFormatException notANumber) {
            // reported below, with the fix
        }
        throw new IllegalArgumentException("option " + key + "=" + value + " of the labeler '" + name()
                + "' is not a fraction in (0, 1]; use for example " + key + "=" + fallback);
    }
}
