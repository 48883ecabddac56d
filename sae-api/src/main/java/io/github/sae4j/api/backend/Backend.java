package io.github.sae4j.api.backend;

import java.util.List;

/**
 * An open compute backend: its devices, each with tensors and {@link TensorOps}.
 * Created by a {@link BackendProvider}; closing it frees what its devices hold.
 */
public interface Backend extends AutoCloseable {

    /** The provider's name, for example {@code java}. */
    String name();

    /** The devices this backend can compute on; never empty. */
    List<Device> devices();

    /**
     * The device with this index.
     *
     * @throws IllegalArgumentException naming the available devices if there is none with this index
     */
    default Device device(int index) {
        List<Device> all = devices();
        if (index < 0 || index >= all.size()) {
            StringBuilder sb = new StringBuilder("Backend '" + name() + "' has no device " + index + ". Available: ");
            for (Device d : all) {
                sb.append("\n  ").append(d.index()).append(": ").append(d.description());
            }
            throw new IllegalArgumentException(sb.toString());
        }
        return all.get(index);
    }

    @Override
    void close();
}
