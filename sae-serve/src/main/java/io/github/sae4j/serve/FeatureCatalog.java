package io.github.sae4j.serve;

import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.core.interpret.TopActivationReader;
import io.github.sae4j.core.label.LabelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code sae4j top-activations} and {@code sae4j label} wrote, held for the feature browser: every latent's
 * statistics and label in memory, and the example sentences of recently opened latents (read from the Parquet file
 * on first use, only the pages that hold that latent; a 65k-latent file would not fit in memory as Java strings).
 */
final class FeatureCatalog {

    /** One latent as the list shows it. */
    record Summary(int latent, String label, Double confidence, double density, boolean dead) {
    }

    private static final int CACHED_LATENTS = 256;

    private final Path top;
    private final Path labelDir;
    private final TopActivationReader.LatentRow[] rows;
    private final LabelStore.StoredLabel[] labels;
    private final boolean labeled;
    private final Map<Integer, LatentExamples> examples = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, LatentExamples> eldest) {
            return size() > CACHED_LATENTS;
        }
    };

    /**
     * @param top      the top-activations output directory
     * @param labelDir where labels.jsonl is (usually {@code top}); it may not exist yet
     */
    FeatureCatalog(Path top, Path labelDir) throws IOException {
        this.top = top;
        this.labelDir = labelDir;
        List<TopActivationReader.LatentRow> list = TopActivationReader.latents(top);
        int latents = 0;
        for (TopActivationReader.LatentRow r : list) {
            latents = Math.max(latents, r.latent() + 1);
        }
        rows = new TopActivationReader.LatentRow[latents];
        for (TopActivationReader.LatentRow r : list) {
            rows[r.latent()] = r;
        }
        labels = new LabelStore.StoredLabel[latents];
        labeled = Files.isRegularFile(labelDir.resolve(LabelStore.JSONL));
        if (labeled) {
            for (LabelStore.StoredLabel s : LabelStore.read(labelDir)) {
                int l = s.label().latent();
                if (l >= 0 && l < latents) {
                    labels[l] = s;
                }
            }
        }
    }

    int latents() {
        return rows.length;
    }

    Path top() {
        return top;
    }

    boolean labeled() {
        return labeled;
    }

    /** Whether the latent is in the files (it may be absent from a partial mining run). */
    boolean has(int latent) {
        return latent >= 0 && latent < rows.length && rows[latent] != null;
    }

    TopActivationReader.LatentRow row(int latent) {
        return rows[latent];
    }

    /** The stored label, or null when this latent has none (not labeled yet). */
    LabelStore.StoredLabel label(int latent) {
        return latent >= 0 && latent < labels.length ? labels[latent] : null;
    }

    /** The label text, or null (none yet, or labeling failed). */
    String labelText(int latent) {
        LabelStore.StoredLabel s = label(latent);
        return s != null && s.label().succeeded() ? s.label().label() : null;
    }

    /** Why a latent has no label, in words a user can act on. */
    String missingLabelReason(int latent) {
        LabelStore.StoredLabel s = label(latent);
        if (!labeled) {
            return "no labels yet: run sae4j label --top " + labelDir;
        }
        if (s == null) {
            return "this latent is not labeled yet: run sae4j label --top " + labelDir + " --latents " + latent;
        }
        return "labeling failed: " + s.label().error();
    }

    /**
     * Latents whose label contains every word of {@code query} (case-insensitive), or whose index is the query;
     * an empty query matches all. Sorted by {@code sort}: "latent", "density" or "confidence" (both descending).
     */
    List<Summary> search(String query, String sort) {
        String q = query == null ? "" : query.strip().toLowerCase(Locale.ROOT);
        String[] words = q.isEmpty() ? new String[0] : q.split("\\s+");
        List<Summary> out = new ArrayList<>();
        for (int l = 0; l < rows.length; l++) {
            if (rows[l] == null) {
                continue;
            }
            String text = labelText(l);
            boolean match = words.length == 0 || q.equals(Integer.toString(l));
            if (!match && text != null) {
                String lower = text.toLowerCase(Locale.ROOT);
                match = true;
                for (String w : words) {
                    match &= lower.contains(w);
                }
            }
            if (match) {
                LabelStore.StoredLabel s = label(l);
                out.add(new Summary(l, text, s != null && s.label().succeeded() ? s.label().confidence() : null,
                        rows[l].density(), rows[l].dead()));
            }
        }
        Comparator<Summary> order = switch (sort == null ? "latent" : sort) {
            case "density" -> Comparator.comparingDouble(Summary::density).reversed();
            case "confidence" -> Comparator.comparingDouble((Summary s) -> s.confidence() == null ? -1
                    : s.confidence()).reversed();
            case "latent" -> Comparator.comparingInt(Summary::latent);
            default -> throw new IllegalArgumentException("sort must be latent, density or confidence, got '" + sort
                    + "'");
        };
        out.sort(order.thenComparingInt(Summary::latent));
        return out;
    }

    /** The latent's example sentences, best first (empty when it never fired). */
    LatentExamples examples(int latent) {
        synchronized (examples) {
            LatentExamples cached = examples.get(latent);
            if (cached != null) {
                return cached;
            }
        }
        LatentExamples ex;
        try {
            ex = TopActivationReader.examples(top, latent);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the examples of latent " + latent + " from " + top, e);
        }
        synchronized (examples) {
            examples.put(latent, ex);
        }
        return ex;
    }
}
