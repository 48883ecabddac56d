package io.github.sae4j.core.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/** The names, schema and file conventions of the sae4j.activations.v1 shard format (see docs/formats.md). */
final class ShardFormat {

    static final String FORMAT = "sae4j.activations.v1";

    static final String KEY_FORMAT = "sae4j.format";
    static final String KEY_D_MODEL = "d_model";
    static final String KEY_DTYPE = "dtype";
    static final String KEY_MODEL = "model";
    static final String KEY_HOOK_POINT = "hook_point";
    /** Metadata of the activation field itself, so a reader of that column alone knows how to decode it. */
    static final String KEY_FIELD_DTYPE = "sae4j.dtype";

    static final String SENTENCE_ID = "sentence_id";
    static final String POSITION = "position";
    static final String TOKEN_ID = "token_id";
    static final String ACTIVATION = "activation";
    static final String ACTIVATION_ITEM = "item";

    static final String DATASET_FILE = "dataset.json";
    static final String TMP_SUFFIX = ".tmp";

    private static final Pattern SHARD_NAME = Pattern.compile("shard-(\\d{6,9})\\.arrow");

    /** "ARROW1": the first and last six bytes of an Arrow IPC file. */
    static final byte[] MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);

    private ShardFormat() {
    }

    static String shardName(int index) {
        return String.format("shard-%06d.arrow", index);
    }

    /** {@code shard-000007.arrow} -> {@code shard-000007.json}, beside it. */
    static Path sidecarOf(Path shard) {
        String name = shard.getFileName().toString();
        String stem = name.endsWith(".arrow") ? name.substring(0, name.length() - ".arrow".length()) : name;
        return shard.resolveSibling(stem + ".json");
    }

    static Path tmpOf(Path file) {
        return file.resolveSibling(file.getFileName() + TMP_SUFFIX);
    }

    /** The index in a shard file name, or -1 if the name is not {@code shard-NNNNNN.arrow}. */
    static int shardIndex(String fileName) {
        Matcher m = SHARD_NAME.matcher(fileName);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The shard files of a directory in index order (numeric, so shard-1000000 follows shard-999999). */
    static List<Path> listShards(Path directory) throws IOException {
        List<Path> shards = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            files.filter(p -> shardIndex(p.getFileName().toString()) >= 0 && Files.isRegularFile(p)).forEach(shards::add);
        }
        shards.sort(Comparator.comparingInt(p -> shardIndex(p.getFileName().toString())));
        return shards;
    }

    static Schema schema(DatasetHeader header) {
        ArrowType valueType = header.dtype() == ActivationDType.BF16
                ? new ArrowType.Int(16, false)
                : new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
        Field item = new Field(ACTIVATION_ITEM, FieldType.notNullable(valueType), null);
        Field activation = new Field(ACTIVATION,
                new FieldType(false, new ArrowType.FixedSizeList(header.dModel()), null,
                        Map.of(KEY_FIELD_DTYPE, header.dtype().wireName())),
                List.of(item));
        List<Field> fields = List.of(
                new Field(SENTENCE_ID, FieldType.notNullable(new ArrowType.Int(64, true)), null),
                new Field(POSITION, FieldType.notNullable(new ArrowType.Int(32, true)), null),
                new Field(TOKEN_ID, FieldType.notNullable(new ArrowType.Int(32, true)), null),
                activation);
        Map<String, String> metadata = new LinkedHashMap<>(header.metadata());
        metadata.put(KEY_FORMAT, FORMAT);
        metadata.put(KEY_D_MODEL, Integer.toString(header.dModel()));
        metadata.put(KEY_DTYPE, header.dtype().wireName());
        metadata.put(KEY_MODEL, header.model());
        metadata.put(KEY_HOOK_POINT, header.hookPoint());
        return new Schema(fields, metadata);
    }

    /** Writes {@code content} to {@code file} and forces it to disk. */
    static void writeSynced(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    /** Renames atomically where the file system can (it can on every local Linux and macOS file system). */
    static void rename(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes renames in {@code directory} durable; a no-op where directories cannot be opened (Windows). */
    static void syncDirectory(Path directory) {
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Best effort: the data files themselves are already forced.
        }
    }
}
