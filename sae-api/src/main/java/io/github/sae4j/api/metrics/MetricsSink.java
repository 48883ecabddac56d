package io.github.sae4j.api.metrics;

import java.io.IOException;

/** Receives the metrics of a run: a console, a JSONL file, a plot, an experiment tracker. */
public interface MetricsSink extends AutoCloseable {

    void record(MetricsRecord record) throws IOException;

    /** Writes what is buffered (a plot, a file) without closing. */
    default void flush() throws IOException {
    }

    @Override
    default void close() throws IOException {
        flush();
    }
}
