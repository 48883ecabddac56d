package io.github.sae4j.llama3.format;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Builds the "no such tensor" message, with the names a typo or the other naming convention most likely meant. */
final class TensorNames {

    private static final int SUGGESTIONS = 3;

    private TensorNames() {
    }

    static IllegalArgumentException missing(String source, String name, Collection<String> names, String hint) {
        StringBuilder msg = new StringBuilder(source).append(": no tensor '").append(name).append("' among ")
                .append(names.size()).append(" tensors");
        List<String> close = closest(name, names);
        if (!close.isEmpty()) {
            msg.append("; closest: ").append(String.join(", ", close));
        }
        if (hint != null) {
            msg.append("; ").append(hint);
        }
        return new IllegalArgumentException(msg.toString());
    }

    /** Up to three names within an edit distance of half the name's length, nearest first. */
    static List<String> closest(String name, Collection<String> names) {
        record Scored(String name, int distance) {
        }
        List<Scored> scored = new ArrayList<>();
        int limit = Math.max(2, name.length() / 2);
        for (String candidate : names) {
            int d = distance(name, candidate);
            if (d <= limit) {
                scored.add(new Scored(candidate, d));
            }
        }
        scored.sort(Comparator.comparingInt(Scored::distance).thenComparing(Scored::name));
        return scored.stream().limit(SUGGESTIONS).map(Scored::name).toList();
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
