package io.github.sae4j.openwebtext.parquet;

import io.github.sae4j.core.parquet.ParquetRows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Writes a corpus in OpenWebText's Parquet schema: one nullable string column (Hugging Face's openwebtext calls it
 * {@code text}), one row per document. Used to build the demo corpus and test corpora.
 */
public final class CorpusParquetWriter implements AutoCloseable {

    private final ParquetRows<byte[]> writer;

    public CorpusParquetWriter(Path out, String column, CompressionCodecName codec, Map<String, String> metadata)
            throws IOException {
        MessageType schema = Types.buildMessage().optional(PrimitiveTypeName.BINARY)
                .as(LogicalTypeAnnotation.stringType()).named(column).named("schema");
        writer = new ParquetRows<>(Files.newOutputStream(out), schema, metadata, codec, Map.of(), (o, text) -> {
            if (text != null) {
                ParquetRows.field(o, column, 0, () -> o.addBinary(Binary.fromConstantByteArray(text)));
            }
        });
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
}
