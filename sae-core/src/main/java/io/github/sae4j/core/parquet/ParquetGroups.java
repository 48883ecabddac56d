package io.github.sae4j.core.parquet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.bytes.ByteBufferAllocator;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.crypto.FileDecryptionProperties;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.filter2.compat.FilterCompat;
import org.apache.parquet.format.converter.ParquetMetadataConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetMetricsCallback;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;

/**
 * Reads a Parquet file row by row as parquet-java's generic {@link Group}s, without Hadoop: for the small tables
 * sae4j writes itself (top activations, latent statistics, labels).
 */
public final class ParquetGroups {

    private ParquetGroups() {
    }

    /** Calls {@code row} for every row of {@code file}, in order. */
    public static void forEach(Path file, Consumer<Group> row) throws IOException {
        forEach(file, FilterCompat.NOOP, row);
    }

    /**
     * Calls {@code row} for the rows of {@code file} that {@code filter} keeps, in order. Row groups and pages whose
     * statistics rule the filter out are not read at all, so a lookup by a sorted column touches a few pages.
     */
    public static void forEach(Path file, FilterCompat.Filter filter, Consumer<Group> row) throws IOException {
        try (ParquetFileReader r = ParquetFileReader.open(new LocalInputFile(file), readOptions(filter))) {
            MessageType schema = r.getFooter().getFileMetaData().getSchema();
            boolean filtered = filter != FilterCompat.NOOP;
            for (PageReadStore pages; (pages = filtered ? r.readNextFilteredRowGroup() : r.readNextRowGroup()) != null; ) {
                RecordReader<Group> reader = new ColumnIOFactory().getColumnIO(schema)
                        .getRecordReader(pages, new GroupRecordConverter(schema), filter);
                for (long i = 0; i < pages.getRowCount(); i++) {
                    Group g = reader.read();
                    if (g != null && !reader.shouldSkipCurrentRecord()) {
                        row.accept(g);
                    }
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + " is not a readable Parquet file of the expected schema (" + e.getMessage()
                    + "); write it again", e);
        }
    }

    /** The list elements of a three-level LIST field of a row. */
    public static int listSize(Group row, String field) {
        return row.getGroup(field, 0).getFieldRepetitionCount("list");
    }

    public static Group listElement(Group row, String field, int i) {
        return row.getGroup(field, 0).getGroup("list", i);
    }

    /**
     * Read options with our codecs. parquet 1.18's {@code ParquetReadOptions.Builder} creates Hadoop's codec factory
     * in its constructor whatever codecs it is given later, which fails without Hadoop on the class path; so the
     * options are made with their own (package-private) constructor, with the builder's defaults, the given row filter and
     * no Hadoop vectored I/O. data-openwebtext's CorpusTest reads every supported codec with Hadoop off the class
     * path to keep this honest.
     */
    public static ParquetReadOptions readOptions() {
        return readOptions(FilterCompat.NOOP);
    }

    private static ParquetReadOptions readOptions(FilterCompat.Filter filter) {
        try {
            var constructor = ParquetReadOptions.class.getDeclaredConstructor(boolean.class, boolean.class,
                    boolean.class, boolean.class, boolean.class, boolean.class, boolean.class, boolean.class,
                    boolean.class, FilterCompat.Filter.class, ParquetMetadataConverter.MetadataFilter.class,
                    CompressionCodecFactory.class, ByteBufferAllocator.class, int.class, Map.class,
                    FileDecryptionProperties.class, ParquetMetricsCallback.class, ParquetConfiguration.class);
            constructor.setAccessible(true);
            return constructor.newInstance(
                    false, // useSignedStringMinMax
                    true, // useStatsFilter
                    true, // useDictionaryFilter
                    true, // useRecordFilter
                    true, // useColumnIndexFilter
                    false, // usePageChecksumVerification
                    true, // useBloomFilter
                    false, // useOffHeapDecryptBuffer
                    false, // useHadoopVectoredIo
                    filter, ParquetMetadataConverter.NO_FILTER, HadoopFreeCodecs.INSTANCE,
                    new HeapByteBufferAllocator(), 8 << 20, new HashMap<String, String>(), null, null,
                    new PlainParquetConfiguration());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("parquet-java's ParquetReadOptions constructor is not the one sae4j was "
                    + "built against (parquet 1.18); use the parquet-hadoop version sae-core's POM names", e);
        }
    }
}
