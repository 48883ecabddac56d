package io.github.sae4j.core.interpret;

import io.github.sae4j.core.parquet.ParquetGroups;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.example.data.Group;

/** Every row of a Parquet file, through the production reader. */
final class ParquetTestReader {

    private ParquetTestReader() {
    }

    static List<Group> read(Path file) throws IOException {
        List<Group> rows = new ArrayList<>();
        ParquetGroups.forEach(file, rows::add);
        return rows;
    }
}
