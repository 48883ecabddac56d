package io.github.sae4j.cuda.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** The FFM plumbing the three library bindings share: downcall handles looked up by name, and calls to them. */
// Restricted FFM methods are this class's purpose; sae4j runs with --enable-native-access=ALL-UNNAMED.
@SuppressWarnings("restricted")
abstract class NativeBinding {

    private static final Linker LINKER = Linker.nativeLinker();

    protected final NativeLibraries.Found library;

    NativeBinding(NativeLibraries.Found library) {
        this.library = library;
    }

    /** A downcall handle for {@code name}, or an error naming the library and saying it is too old. */
    protected final MethodHandle function(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = library.symbols().find(name).orElseThrow(() -> new IllegalStateException(
                library.location() + " has no function " + name + ": the library is older than the cuda backend "
                        + "needs (CUDA 12 or 13)"));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    /** Calls a function that returns a status code. */
    protected static int status(MethodHandle handle, Object... args) {
        try {
            return (int) handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Calls a function that returns a pointer. */
    protected static MemorySegment pointer(MethodHandle handle, Object... args) {
        try {
            return (MemorySegment) handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The NUL-terminated string at {@code address}, or null for a null pointer. */
    protected static String cString(MemorySegment address) {
        if (address == null || address.equals(MemorySegment.NULL)) {
            return null;
        }
        return address.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Where the library was loaded from. */
    public String location() {
        return library.location();
    }

    /** The soname that was loaded, for example {@code libcublas.so.12}. */
    public String soname() {
        return library.soname();
    }

    /** The major version in the soname ({@code 12} for {@code libcublas.so.12}), or -1. */
    public int sonameMajor() {
        return sonameMajor(library.soname());
    }

    static int sonameMajor(String soname) {
        int dot = soname.lastIndexOf('.');
        try {
            return Integer.parseInt(soname.substring(dot + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
