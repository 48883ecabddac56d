package io.github.sae4j.openwebtext.corpus;

import io.github.sae4j.openwebtext.parquet.ParquetTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/** Documents from one string column of Parquet files, read in the order given (one row, one document). */
final class ParquetDocuments implements DocumentReader {

    private final List<Path> files;
    private final String column;
    private final long size;
    private int fileIndex = -1;
    private ParquetTable.Rows rows;
    private long index;

    ParquetDocuments(List<Path> files, String column) throws IOException {
        this.files = files;
        this.column = column;
        long total = 0;
        for (Path f : files) {
            // Check every footer and the column up front: a bad file fails now, not hours into a run.
            try (ParquetTable t = ParquetTable.open(f)) {
                if (!t.hasColumn(column)) {
                    throw new IllegalArgumentException(f + " has no column '" + column + "'; its columns are "
                            + t.columns() + "; choose the text column with the option column=NAME");
                }
                total += t.rowCount();
            }
        }
        this.size = total;
    }

    @Override
    public Document next() throws IOException {
        while (rows == null || !rows.next()) {
            if (rows != null) {
                rows.close();
                rows = null;
            }
            if (++fileIndex >= files.size()) {
                return null;
            }
            ParquetTable table = ParquetTable.open(files.get(fileIndex));
            try {
                rows = table.rows(List.of(column));
            } catch (RuntimeException e) {
                table.close();
                throw e;
            }
        }
        return new Document(index++, rows.string(0), files.get(fileIndex) + " row " + rows.row());
    }

    @Override
    public OptionalLong size() {
        return OptionalLong.of(size);
    }

    @Override
    public void close() throws IOException {
        if (rows != null) {
            rows.close();
            rows = null;
        }
        fileIndex = files.size();
    }
}
