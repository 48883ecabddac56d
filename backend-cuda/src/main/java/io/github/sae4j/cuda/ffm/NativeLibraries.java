package io.github.sae4j.cuda.ffm;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * Finds the machine's CUDA libraries: the directories of {@code LD_LIBRARY_PATH}, the usual CUDA install places, and
 * finally the dynamic linker's own search (its cache, where distributions install the driver).
 */
// Restricted FFM methods are this class's purpose; sae4j runs with --enable-native-access=ALL-UNNAMED.
@SuppressWarnings("restricted")
public final class NativeLibraries {

    /** Where CUDA libraries usually live, after the directories the user names. */
    public static final List<String> USUAL_DIRECTORIES = List.of("/usr/local/cuda/lib64",
            "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/targets/sbsa-linux/lib",
            "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib");

    /** A library that was found: the file (or the bare soname the dynamic linker resolved) and its symbols. */
    public record Found(String location, String soname, SymbolLookup symbols) {
    }

    private NativeLibraries() {
    }

    /** The directories searched, in order: {@code extra}, then {@code LD_LIBRARY_PATH}, then {@link #USUAL_DIRECTORIES}. */
    public static List<String> searchDirectories(List<String> extra, String ldLibraryPath) {
        LinkedHashSet<String> dirs = new LinkedHashSet<>(extra);
        if (ldLibraryPath != null) {
            for (String d : ldLibraryPath.split(File.pathSeparator)) {
                if (!d.isBlank()) {
                    dirs.add(d);
                }
            }
        }
        dirs.addAll(USUAL_DIRECTORIES);
        return List.copyOf(dirs);
    }

    /** The directories searched on this machine. */
    public static List<String> searchDirectories(List<String> extra) {
        return searchDirectories(extra, System.getenv("LD_LIBRARY_PATH"));
    }

    /**
     * Loads the first of {@code sonames} (in order of preference) found in {@code directories}, else the first the
     * dynamic linker finds by name. Loaded libraries stay loaded for the life of the JVM.
     */
    public static Optional<Found> load(List<String> sonames, List<String> directories) {
        for (String soname : sonames) {
            for (String dir : directories) {
                Path file = Path.of(dir, soname);
                if (Files.exists(file)) {
                    try {
                        return Optional.of(new Found(file.toString(), soname,
                                SymbolLookup.libraryLookup(file, Arena.global())));
                    } catch (IllegalArgumentException e) {
                        // present but not loadable (wrong architecture, broken link): try the next place
                    }
                }
            }
        }
        for (String soname : sonames) {
            try {
                return Optional.of(new Found(soname + " (dynamic linker search)", soname,
                        SymbolLookup.libraryLookup(soname, Arena.global())));
            } catch (IllegalArgumentException e) {
                // not known to the dynamic linker either
            }
        }
        return Optional.empty();
    }

    /** {@code base.so.M} for each major version in {@code majors}, in that order (for example libcublas.so.13, .12). */
    public static List<String> sonames(String base, int... majors) {
        List<String> out = new ArrayList<>();
        for (int m : majors) {
            out.add(base + ".so." + m);
        }
        return out;
    }
}
