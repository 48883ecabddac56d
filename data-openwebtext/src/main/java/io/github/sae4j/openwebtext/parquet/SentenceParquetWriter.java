package io.github.sae4j.openwebtext.parquet;

import io.github.sae4j.core.parquet.ParquetRows;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.api.Binary;
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

    private final ParquetRows<Row> writer;
    private final Map<String, String> finalMetadata = new LinkedHashMap<>();

    /**
     * @param stream   where the file goes; closed by {@link #close()}
     * @param metadata key-value metadata stored in the footer ({@code sae4j.format} is added)
     */
    public SentenceParquetWriter(OutputStream stream, Map<String, String> metadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("sae4j.format", FORMAT);
        meta.putAll(metadata);
        writer = new ParquetRows<>(stream, SCHEMA, meta, CompressionCodecName.SNAPPY, finalMetadata, (out, r) -> {
            ParquetRows.field(out, SENTENCE_ID, 0, () -> out.addLong(r.sentenceId()));
            ParquetRows.field(out, DOC_ID, 1, () -> out.addLong(r.docId()));
            ParquetRows.field(out, SENTENCE_IDX, 2, () -> out.addInteger(r.sentenceIndex()));
            ParquetRows.field(out, TEXT, 3, () -> out.addBinary(Binary.fromString(r.text())));
            ParquetRows.field(out, CHAR_START, 4, () -> out.addInteger(r.charStart()));
            ParquetRows.field(out, CHAR_END, 5, () -> out.addInteger(r.charEnd()));
        });
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
}
