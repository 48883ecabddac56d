package io.github.sae4j.openwebtext.parquet;

import io.github.sae4j.core.parquet.HadoopFreeCodecs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Writes a corpus in OpenWebText's Parquet schema: one nullable string column (Hugging Face's openwebtext calls it
 * {@code text}), one row per document. Used to build the demo corpus and test corpora.
 */
public final class CorpusParquetWriter implements AutoCloseable {

    private final ParquetWriter<byte[]> writer;

    public CorpusParquetWriter(Path out, String column, CompressionCodecName codec, Map<String, String> metadata)
            throws IOException {
        MessageType schema = Types.buildMessage().optional(PrimitiveTypeName.BINARY)
                .as(LogicalTypeAnnotation.stringType()).named(column).named("schema");
        writer = new Builder(new LocalOutputFile(out), schema, column, metadata)
                .withConf(new PlainParquetConfiguration())
                .withCodecFactory(HadoopFreeCodecs.INSTANCE)
                .withCompressionCodec(codec)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .build();
    }

    /** Appends one document; null writes a null value. */
    public void write(String text) throws IOException {
        writer.write(text == null ? null : text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Appends one document as raw bytes, stored as they are (tests use it to store invalid UTF-8). */
    public void writeBytes(byte[] utf8) throws IOException {
        writer.write(utf8);
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }

    private static final class Builder extends ParquetWriter.Builder<byte[], Builder> {
        private final MessageType schema;
        private final String column;
        private final Map<String, String> metadata;

        Builder(OutputFile file, MessageType schema, String column, Map<String, String> metadata) {
            super(file);
            this.schema = schema;
            this.column = column;
            this.metadata = metadata;
        }

        @Override
        protected Builder self() {
            return this;
        }

        // The Hadoop-typed variants are abstract in parquet-java, so they must exist; nothing calls them here.
        @SuppressWarnings("deprecation")
        @Override
        protected WriteSupport<byte[]> getWriteSupport(Configuration conf) {
            return support();
        }

        @Override
        protected WriteSupport<byte[]> getWriteSupport(ParquetConfiguration conf) {
            return support();
        }

        private WriteSupport<byte[]> support() {
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
                public void write(byte[] text) {
                    out.startMessage();
                    if (text != null) {
                        out.startField(column, 0);
                        out.addBinary(Binary.fromConstantByteArray(text));
                        out.endField(column, 0);
                    }
                    out.endMessage();
                }
            };
        }
    }
}
