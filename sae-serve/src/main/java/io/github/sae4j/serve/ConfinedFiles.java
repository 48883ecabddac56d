package io.github.sae4j.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Files under one directory, by relative name, and nothing outside it: no absolute names, no {@code ..}, no
 * symbolic link that leads out, no hidden files.
 */
final class ConfinedFiles {

    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "htm", "text/html; charset=utf-8", "png", "image/png",
            "svg", "image/svg+xml", "json", "application/json", "jsonl", "text/plain; charset=utf-8",
            "txt", "text/plain; charset=utf-8", "css", "text/css; charset=utf-8", "csv", "text/csv; charset=utf-8");

    private final Path root;

    ConfinedFiles(Path root) throws IOException {
        this.root = root.toRealPath();
    }

    Path root() {
        return root;
    }

    /**
     * The regular file {@code name} names under the root, or empty when there is none or the name would leave the
     * root.
     */
    Optional<Path> resolve(String name) {
        if (name == null || name.isEmpty() || name.indexOf('\0') >= 0 || name.indexOf('\\') >= 0
                || name.startsWith("/")) {
            return Optional.empty();
        }
        for (String part : name.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..") || part.startsWith(".")) {
                return Optional.empty();
            }
        }
        Path p = root.resolve(name).normalize();
        if (!p.startsWith(root) || !Files.isRegularFile(p)) {
            return Optional.empty();
        }
        try {
            Path real = p.toRealPath();
            return real.startsWith(root) && Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS) ? Optional.of(real)
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The content type to serve a file as (by extension); unknown ones download rather than render. */
    static String contentType(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        return TYPES.getOrDefault(ext, "application/octet-stream");
    }
}
