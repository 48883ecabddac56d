package io.github.sae4j.openwebtext.parquet;

import io.github.sae4j.core.parquet.HadoopFreeCodecs;
import io.github.sae4j.core.parquet.StreamOutputFile;

import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
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
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Writes the sentences Parquet format ({@code sae4j.sentences.v1}, see docs/formats.md) to a stream. The caller owns
 * where the stream goes; {@code SentenceDatasets} makes it a temporary file that is renamed into place.
 */
public final class SentenceParquetWriter implements AutoCloseable {

    public static final String FORMAT = "sae4j.sentences.v1";
    public static final String SENTENCE_ID = "sentence_id";
    public static final String DOC_ID = "doc_id";
    public static final String SENTENCE_IDX = "sentence_idx";
    public static final String TEXT = "text";
    public static final String CHAR_START = "char_start";
    public static final String CHAR_END = "char_end";

    public static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.INT64).named(SENTENCE_ID)
            .required(PrimitiveTypeName.INT64).named(DOC_ID)
            .required(PrimitiveTypeName.INT32).named(SENTENCE_IDX)
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(TEXT)
            .required(PrimitiveTypeName.INT32).named(CHAR_START)
            .required(PrimitiveTypeName.INT32).named(CHAR_END)
            .named("sentences");

    /** Row groups of about 32 MB keep the writer's memory small and still let readers skip by group. */
    private static final long ROW_GROUP_BYTES = 32L << 20;

    private final ParquetWriter<Row> writer;
    private final Map<String, String> finalMetadata = new LinkedHashMap<>();

    /**
     * @param stream   where the file goes; closed by {@link #close()}
     * @param metadata key-value metadata stored in the footer ({@code sae4j.format} is added)
     */
    public SentenceParquetWriter(OutputStream stream, Map<String, String> metadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("sae4j.format", FORMAT);
        meta.putAll(metadata);
        writer = new Builder(new StreamOutputFile(stream), meta, finalMetadata)
                .withConf(new PlainParquetConfiguration())
                .withCodecFactory(HadoopFreeCodecs.INSTANCE)
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .withRowGroupSize(ROW_GROUP_BYTES)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .build();
    }

    public void write(long sentenceId, long docId, int sentenceIndex, String text, int charStart, int charEnd)
            throws IOException {
        writer.write(new Row(sentenceId, docId, sentenceIndex, text, charStart, charEnd));
    }

    /** Metadata known only at the end (counts), stored in the footer when the writer closes. */
    public void putFinalMetadata(String key, String value) {
        finalMetadata.put(key, value);
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }

    private record Row(long sentenceId, long docId, int sentenceIndex, String text, int charStart, int charEnd) {
    }

    private static final class Builder extends ParquetWriter.Builder<Row, Builder> {
        private final Map<String, String> metadata;
        private final Map<String, String> finalMetadata;

        Builder(OutputFile file, Map<String, String> metadata, Map<String, String> finalMetadata) {
            super(file);
            this.metadata = metadata;
            this.finalMetadata = finalMetadata;
        }

        @Override
        protected Builder self() {
            return this;
        }

        // The Hadoop-typed variants are abstract in parquet-java, so they must exist; nothing calls them here.
        @SuppressWarnings("deprecation")
        @Override
        protected WriteSupport<Row> getWriteSupport(Configuration conf) {
            return new RowWriteSupport(metadata, finalMetadata);
        }

        @Override
        protected WriteSupport<Row> getWriteSupport(ParquetConfiguration conf) {
            return new RowWriteSupport(metadata, finalMetadata);
        }
    }

    private static final class RowWriteSupport extends WriteSupport<Row> {
        private final Map<String, String> metadata;
        private final Map<String, String> finalMetadata;
        private RecordConsumer out;

        RowWriteSupport(Map<String, String> metadata, Map<String, String> finalMetadata) {
            this.metadata = metadata;
            this.finalMetadata = finalMetadata;
        }

        @SuppressWarnings("deprecation")
        @Override
        public WriteContext init(Configuration configuration) {
            return new WriteContext(SCHEMA, metadata);
        }

        @Override
        public WriteContext init(ParquetConfiguration configuration) {
            return new WriteContext(SCHEMA, metadata);
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            out = recordConsumer;
        }

        @Override
        public void write(Row r) {
            out.startMessage();
            out.startField(SENTENCE_ID, 0);
            out.addLong(r.sentenceId());
            out.endField(SENTENCE_ID, 0);
            out.startField(DOC_ID, 1);
            out.addLong(r.docId());
            out.endField(DOC_ID, 1);
            out.startField(SENTENCE_IDX, 2);
            out.addInteger(r.sentenceIndex());
            out.endField(SENTENCE_IDX, 2);
            out.startField(TEXT, 3);
            out.addBinary(Binary.fromString(r.text()));
            out.endField(TEXT, 3);
            out.startField(CHAR_START, 4);
            out.addInteger(r.charStart());
            out.endField(CHAR_START, 4);
            out.startField(CHAR_END, 5);
            out.addInteger(r.charEnd());
            out.endField(CHAR_END, 5);
            out.endMessage();
        }

        @Override
        public FinalizedWriteContext finalizeWrite() {
            return new FinalizedWriteContext(Map.copyOf(finalMetadata));
        }
    }
}
