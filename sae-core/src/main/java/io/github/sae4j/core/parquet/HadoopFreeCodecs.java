package io.github.sae4j.core.parquet;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.xerial.snappy.Snappy;

/**
 * Parquet page compression without Hadoop. parquet-java's own codec factory goes through Hadoop's
 * {@code CompressionCodec} classes, which would pull tens of megabytes of Hadoop into every reader; this one calls
 * the codec libraries directly: snappy-java, zstd-jni and {@code java.util.zip} (gzip).
 * Files compressed with another codec (LZ4, LZO, Brotli) are an error that names the codec.
 */
@SuppressWarnings("deprecation") // BytesInput.toByteArray(): the codec libraries take arrays; pages are small.
public final class HadoopFreeCodecs implements CompressionCodecFactory {

    public static final HadoopFreeCodecs INSTANCE = new HadoopFreeCodecs();

    private HadoopFreeCodecs() {
    }

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codec) {
        supported(codec);
        return new BytesInputCompressor() {
            @Override
            public BytesInput compress(BytesInput bytes) throws IOException {
                byte[] in = bytes.toByteArray();
                return BytesInput.from(switch (codec) {
                    case UNCOMPRESSED -> in;
                    case SNAPPY -> Snappy.compress(in);
                    case ZSTD -> Zstd.compress(in, 3);
                    case GZIP -> gzip(in);
                    default -> throw unsupported(codec);
                });
            }

            @Override
            public CompressionCodecName getCodecName() {
                return codec;
            }

            @Override
            public void release() {
            }
        };
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
        supported(codec);
        return new BytesInputDecompressor() {
            @Override
            public BytesInput decompress(BytesInput bytes, int uncompressedSize) throws IOException {
                if (codec == CompressionCodecName.UNCOMPRESSED) {
                    return bytes;
                }
                byte[] in = bytes.toByteArray();
                byte[] out = new byte[uncompressedSize];
                int n = switch (codec) {
                    case SNAPPY -> Snappy.uncompress(in, 0, in.length, out, 0);
                    case ZSTD -> (int) Zstd.decompressByteArray(out, 0, out.length, in, 0, in.length);
                    case GZIP -> gunzip(in, out);
                    default -> throw unsupported(codec);
                };
                if (n != uncompressedSize) {
                    throw new IOException(codec + " page decompressed to " + n + " bytes, but its header says "
                            + uncompressedSize + "; the file is damaged");
                }
                return BytesInput.from(out);
            }

            @Override
            public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int uncompressedSize)
                    throws IOException {
                byte[] in = new byte[compressedSize];
                input.duplicate().get(in);
                output.put(decompress(BytesInput.from(in), uncompressedSize).toByteArray());
            }

            @Override
            public void release() {
            }
        };
    }

    @Override
    public void release() {
    }

    private static void supported(CompressionCodecName codec) {
        switch (codec) {
            case UNCOMPRESSED, SNAPPY, ZSTD, GZIP -> {
            }
            default -> throw unsupported(codec);
        }
    }

    private static UnsupportedOperationException unsupported(CompressionCodecName codec) {
        return new UnsupportedOperationException("Parquet codec " + codec + " is not supported; rewrite the file "
                + "with SNAPPY, ZSTD, GZIP or no compression (pyarrow: pq.write_table(t, path, compression='zstd'))");
    }

    private static byte[] gzip(byte[] in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(in.length / 3 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(in);
        }
        return bytes.toByteArray();
    }

    private static int gunzip(byte[] in, byte[] out) throws IOException {
        try (InputStream gz = new GZIPInputStream(new java.io.ByteArrayInputStream(in))) {
            return gz.readNBytes(out, 0, out.length);
        }
    }
}
