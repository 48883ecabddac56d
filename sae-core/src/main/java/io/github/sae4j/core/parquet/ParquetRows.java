package io.github.sae4j.core.parquet;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;

/**
 * Writes rows of any Java type as a Parquet file with a fixed schema, without Hadoop: the caller says how one row
 * becomes record events ({@link RecordConsumer}), and {@link #stringList}/{@link #floatList}/{@link #intList}
 * write the standard three-level LIST groups pyarrow reads as lists.
 *
 * @param <T> the row type
 */
public final class ParquetRows<T> implements AutoCloseable {

    private final ParquetWriter<T> writer;

    /**
     * @param stream   where the file goes; closed by {@link #close()}
     * @param metadata key-value metadata for the footer
     */
    public ParquetRows(OutputStream stream, MessageType schema, Map<String, String> metadata,
                       BiConsumer<RecordConsumer, T> rowWriter) throws IOException {
        this(stream, schema, metadata, CompressionCodecName.ZSTD, Map.of(), rowWriter);
    }

    /**
     * @param codec         the compression codec (one {@link HadoopFreeCodecs} supports)
     * @param finalMetadata footer metadata known only at the end (counts): read when the file is closed
     */
    public ParquetRows(OutputStream stream, MessageType schema, Map<String, String> metadata,
                       CompressionCodecName codec, Map<String, String> finalMetadata,
                       BiConsumer<RecordConsumer, T> rowWriter) throws IOException {
        writer = new Builder<>(new StreamOutputFile(stream), schema, metadata, finalMetadata, rowWriter)
                .withConf(new PlainParquetConfiguration())
                .withCodecFactory(HadoopFreeCodecs.INSTANCE)
                .withCompressionCodec(codec)
                .withRowGroupSize(32L << 20)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .build();
    }

    public void write(T row) throws IOException {
        writer.write(row);
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }

    /** A required field. */
    public static void field(RecordConsumer out, String name, int index, Runnable value) {
        out.startField(name, index);
        value.run();
        out.endField(name, index);
    }

    /** A required LIST of strings: {@code group name (LIST) { repeated group list { required binary element; } }}. */
    public static void stringList(RecordConsumer out, String name, int index, java.util.List<String> values) {
        list(out, name, index, values.size(), i -> out.addBinary(Binary.fromString(values.get(i))));
    }

    /** A required LIST of floats. */
    public static void floatList(RecordConsumer out, String name, int index, float[] values) {
        list(out, name, index, values.length, i -> out.addFloat(values[i]));
    }

    /** A required LIST of ints. */
    public static void intList(RecordConsumer out, String name, int index, int[] values) {
        list(out, name, index, values.length, i -> out.addInteger(values[i]));
    }

    private static void list(RecordConsumer out, String name, int index, int n, java.util.function.IntConsumer element) {
        out.startField(name, index);
        out.startGroup();
        if (n > 0) {
            out.startField("list", 0);
            for (int i = 0; i < n; i++) {
                out.startGroup();
                out.startField("element", 0);
                element.accept(i);
                out.endField("element", 0);
                out.endGroup();
            }
            out.endField("list", 0);
        }
        out.endGroup();
        out.endField(name, index);
    }

    private static final class Builder<T> extends ParquetWriter.Builder<T, Builder<T>> {
        private final MessageType schema;
        private final Map<String, String> metadata;
        private final Map<String, String> finalMetadata;
        private final BiConsumer<RecordConsumer, T> rowWriter;

        Builder(OutputFile file, MessageType schema, Map<String, String> metadata, Map<String, String> finalMetadata,
                BiConsumer<RecordConsumer, T> rowWriter) {
            super(file);
            this.schema = schema;
            this.metadata = metadata;
            this.finalMetadata = finalMetadata;
            this.rowWriter = rowWriter;
        }

        @Override
        protected Builder<T> self() {
            return this;
        }

        // The Hadoop-typed variant is abstract in parquet-java, so it must exist; nothing calls it here.
        @SuppressWarnings("deprecation")
        @Override
        protected WriteSupport<T> getWriteSupport(Configuration conf) {
            return support();
        }

        @Override
        protected WriteSupport<T> getWriteSupport(ParquetConfiguration conf) {
            return support();
        }

        private WriteSupport<T> support() {
            return new WriteSupport<>() {
                private RecordConsumer out;

                @SuppressWarnings("deprecation")
                @Override
                public WriteContext init(Configuration configuration) {
                    return new WriteContext(schema, metadata);
                }

                @Override
                public WriteContext init(ParquetConfiguration configuration) {
                    return new WriteContext(schema, metadata);
                }

                @Override
                public void prepareForWrite(RecordConsumer recordConsumer) {
                    out = recordConsumer;
                }

                @Override
                public void write(T row) {
                    out.startMessage();
                    rowWriter.accept(out, row);
                    out.endMessage();
                }

                @Override
                public FinalizedWriteContext finalizeWrite() {
                    return new FinalizedWriteContext(Map.copyOf(finalMetadata));
                }
            };
        }
    }
}
