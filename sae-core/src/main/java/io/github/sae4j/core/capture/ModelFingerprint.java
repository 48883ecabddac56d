package io.github.sae4j.core.capture;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * What identifies the model a capture ran: the SHA-256 of each file it was loaded from. For a directory (the
 * Hugging Face layout) those are its {@code *.json} and {@code *.safetensors} files; otherwise the file itself
 * (GGUF). A resumed capture must see the same fingerprint.
 *
 * @param files  each file's name, size and SHA-256, by name
 * @param sha256 the SHA-256 of the lines "name size sha256", one per file: the whole model in one value
 */
public record ModelFingerprint(List<FileHash> files, String sha256) {

    public record FileHash(String file, long bytes, String sha256) {
    }

    public static ModelFingerprint of(Path model) throws IOException {
        List<Path> paths = new ArrayList<>();
        if (Files.isDirectory(model)) {
            try (Stream<Path> s = Files.list(model)) {
                s.filter(Files::isRegularFile).filter(p -> {
                    String n = p.getFileName().toString();
                    return n.endsWith(".json") || n.endsWith(".safetensors");
                }).sorted().forEach(paths::add);
            }
            if (paths.isEmpty()) {
                throw new IOException(model + " holds no *.json or *.safetensors files: is it a model directory?");
            }
        } else {
            paths.add(model);
        }
        List<FileHash> files = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (Path p : paths) {
            FileHash h = new FileHash(p.getFileName().toString(), Files.size(p), sha256(p));
            files.add(h);
            all.append(h.file()).append(' ').append(h.bytes()).append(' ').append(h.sha256()).append('\n');
        }
        return new ModelFingerprint(List.copyOf(files), hex(digest().digest(all.toString().getBytes(StandardCharsets.UTF_8))));
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest d = digest();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
        }
        return hex(d.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
