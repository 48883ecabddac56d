package io.github.sae4j.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writing files and directories so that a crash (even {@code kill -9}) leaves either the old version or the
 * complete new one, never a half-written file under the final name: write to a temporary sibling, fsync, rename.
 */
public final class AtomicFiles {

    /** Suffix of directories being written; readers skip names containing it. */
    public static final String PARTIAL_MARKER = ".partial-";

    private AtomicFiles() {
    }

    /** What fills a temporary file or directory. */
    @FunctionalInterface
    public interface Writer {
        void write(Path temporary) throws IOException;
    }

    /** Writes {@code target} through {@code writer} into a temporary sibling, then renames it into place. */
    public static void writeFile(Path target, Writer writer) throws IOException {
        Path dir = parentOf(target);
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + PARTIAL_MARKER + ProcessHandle.current().pid());
        try {
            writer.write(tmp);
            fsync(tmp);
            move(tmp, target);
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void writeString(Path target, String text) throws IOException {
        writeFile(target, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }

    /**
     * Writes the directory {@code target} through {@code writer} into a temporary sibling directory, then renames it
     * into place. An existing {@code target} is replaced only after the new one is complete.
     */
    public static void writeDirectory(Path target, Writer writer) throws IOException {
        Path parent = parentOf(target);
        Files.createDirectories(parent);
        Path tmp = parent.resolve(target.getFileName() + PARTIAL_MARKER + ProcessHandle.current().pid());
        deleteRecursively(tmp);
        Files.createDirectory(tmp);
        Path old = null;
        try {
            writer.write(tmp);
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(f)) {
                        fsync(f);
                    }
                }
            }
            fsyncDirectory(tmp);
            if (Files.exists(target)) {
                old = parent.resolve(target.getFileName() + PARTIAL_MARKER + "old-" + ProcessHandle.current().pid());
                deleteRecursively(old);
                move(target, old);
            }
            move(tmp, target);
            fsyncDirectory(parent);
        } finally {
            deleteRecursively(tmp);
            if (old != null) {
                deleteRecursively(old);
            }
        }
    }

    private static Path parentOf(Path p) {
        Path parent = p.toAbsolutePath().getParent();
        if (parent == null) {
            throw new IllegalArgumentException("no parent directory for " + p);
        }
        return parent;
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Makes a rename durable; a no-op where directories cannot be opened (not POSIX). */
    public static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some file systems refuse to open directories; the rename itself is still atomic there.
        }
    }

    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
