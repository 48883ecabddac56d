package io.github.sae4j.openwebtext.parquet;

import io.github.sae4j.core.parquet.ParquetGroups;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.Converter;
import org.apache.parquet.io.api.GroupConverter;
import org.apache.parquet.io.api.PrimitiveConverter;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * One Parquet file read row by row over a few flat columns, with parquet-java's column readers (no record
 * assembly, no Hadoop). Only the chosen columns are read from disk.
 *
 * <pre>{@code
 * try (ParquetTable t = ParquetTable.open(path); ParquetTable.Rows rows = t.rows(List.of("text"))) {
 *     while (rows.next()) { String text = rows.string(0); }
 * }
 * }</pre>
 */
public final class ParquetTable implements AutoCloseable {

    private final Path path;
    private final ParquetFileReader reader;
    private final MessageType schema;
    private boolean closed;

    /** Read options with our codecs and no Hadoop (see {@link ParquetGroups#readOptions()}). */
    private static final ParquetReadOptions READ_OPTIONS = ParquetGroups.readOptions();

    private ParquetTable(Path path, ParquetFileReader reader) {
        this.path = path;
        this.reader = reader;
        this.schema = reader.getFooter().getFileMetaData().getSchema();
    }

    /** Opens {@code path} and reads its footer; a damaged or truncated file is an {@link IOException} naming it. */
    public static ParquetTable open(Path path) throws IOException {
        ParquetReadOptions options = READ_OPTIONS;
        try {
            return new ParquetTable(path, ParquetFileReader.open(new LocalInputFile(path), options));
        } catch (java.nio.file.NoSuchFileException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IOException(path + " is not a readable Parquet file (" + e.getMessage() + "); if it was cut "
                    + "short by an interrupted copy or download, fetch or write it again", e);
        }
    }

    public Path path() {
        return path;
    }

    /** The top-level column names, in file order. */
    public List<String> columns() {
        return schema.getFields().stream().map(Type::getName).toList();
    }

    public boolean hasColumn(String name) {
        return schema.containsField(name);
    }

    public long rowCount() {
        return reader.getRecordCount();
    }

    /** The file's key-value metadata. */
    public Map<String, String> metadata() {
        return reader.getFooter().getFileMetaData().getKeyValueMetaData();
    }

    /**
     * The rows of the given flat columns; call once per table.
     *
     * @throws IllegalArgumentException naming the columns the file has, if one is missing or not a plain column
     */
    public Rows rows(List<String> names) {
        List<ColumnDescriptor> descriptors = new ArrayList<>();
        List<Type> fields = new ArrayList<>();
        for (String name : names) {
            if (!schema.containsField(name)) {
                throw new IllegalArgumentException(path + " has no column '" + name + "'; its columns are "
                        + columns() + "; choose one with the option column=NAME");
            }
            Type field = schema.getType(name);
            if (!field.isPrimitive() || field.isRepetition(Type.Repetition.REPEATED)) {
                throw new IllegalArgumentException(path + ": column '" + name + "' is " + field
                        + ", not a plain value column; choose a string column with the option column=NAME");
            }
            fields.add(field);
            descriptors.add(schema.getColumnDescription(new String[] {name}));
        }
        MessageType requested = new MessageType(schema.getName(), fields);
        reader.setRequestedSchema(requested);
        return new Rows(requested, descriptors);
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            reader.close();
        }
    }

    /** A cursor over rows: {@link #next()}, then the values of this row by column position. */
    public final class Rows implements AutoCloseable {
        private final MessageType requested;
        private final List<ColumnDescriptor> descriptors;
        private final ColumnReader[] readers;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private long groupRowsLeft;
        private long row = -1;
        private boolean onRow;

        private Rows(MessageType requested, List<ColumnDescriptor> descriptors) {
            this.requested = requested;
            this.descriptors = descriptors;
            this.readers = new ColumnReader[descriptors.size()];
        }

        /** Moves to the next row; false at the end of the file. */
        public boolean next() throws IOException {
            if (onRow) {
                for (ColumnReader r : readers) {
                    r.consume();
                }
                onRow = false;
            }
            while (groupRowsLeft == 0) {
                PageReadStore pages;
                try {
                    pages = reader.readNextRowGroup();
                } catch (IOException | RuntimeException e) {
                    throw new IOException(path + ": cannot read the row group after row " + row + " ("
                            + e.getMessage() + "); the file is damaged, write or fetch it again", e);
                }
                if (pages == null) {
                    return false;
                }
                ColumnReadStoreImpl store = new ColumnReadStoreImpl(pages,
                        new IgnoringConverter(requested.getFieldCount()), requested,
                        reader.getFooter().getFileMetaData().getCreatedBy());
                for (int i = 0; i < readers.length; i++) {
                    readers[i] = store.getColumnReader(descriptors.get(i));
                }
                groupRowsLeft = pages.getRowCount();
            }
            groupRowsLeft--;
            row++;
            onRow = true;
            return true;
        }

        /** The row number in the file, from 0. */
        public long row() {
            return row;
        }

        public boolean isNull(int column) {
            return readers[column].getCurrentDefinitionLevel() < descriptors.get(column).getMaxDefinitionLevel();
        }

        /** A string (or binary holding UTF-8) value; null if null. Invalid UTF-8 is an error naming file and row. */
        public String string(int column) throws IOException {
            if (isNull(column)) {
                return null;
            }
            ColumnDescriptor d = descriptors.get(column);
            if (d.getPrimitiveType().getPrimitiveTypeName() != PrimitiveTypeName.BINARY) {
                throw new IOException(path + ": column '" + d.getPath()[0] + "' holds "
                        + d.getPrimitiveType().getPrimitiveTypeName() + ", not text; choose a string column with the "
                        + "option column=NAME");
            }
            Binary value = readers[column].getBinary();
            ByteBuffer bytes = value.toByteBuffer();
            int start = bytes.position();
            try {
                return utf8.reset().decode(bytes).toString();
            } catch (CharacterCodingException e) {
                throw new IOException(path + ": row " + row + ", column '" + d.getPath()[0] + "': invalid UTF-8 at byte "
                        + (bytes.position() - start) + " of the value; re-encode the text as UTF-8 (for example "
                        + "replacing bad bytes with U+FFFD) and write the file again", e);
            }
        }

        public long int64(int column) {
            return readers[column].getLong();
        }

        public int int32(int column) {
            return readers[column].getInteger();
        }

        @Override
        public void close() throws IOException {
            ParquetTable.this.close();
        }
    }

    /** Column readers want a converter tree; we read values straight from the readers, so it is never called. */
    private static final class IgnoringConverter extends GroupConverter {
        private final PrimitiveConverter leaf = new PrimitiveConverter() {
        };
        private final int fields;

        IgnoringConverter(int fields) {
            this.fields = fields;
        }

        @Override
        public Converter getConverter(int fieldIndex) {
            if (fieldIndex >= fields) {
                throw new IndexOutOfBoundsException(fieldIndex);
            }
            return leaf;
        }

        @Override
        public void start() {
        }

        @Override
        public void end() {
        }
    }
}
