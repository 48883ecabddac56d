package io.github.sae4j.openwebtext.corpus;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * Plain UTF-8 text. One file: documents are separated by one or more blank (or whitespace-only) lines, and lines
 * within a document are joined with {@code \n}. A directory of {@code .txt} files: each file is one document.
 */
final class TextDocuments {

    private TextDocuments() {
    }

    /** Documents of one file, separated by blank lines. */
    static DocumentReader paragraphs(Path file) throws IOException {
        Utf8Lines lines = new Utf8Lines(file);
        return new DocumentReader() {
            private long index;

            @Override
            public Document next() throws IOException {
                StringBuilder doc = new StringBuilder();
                long first = -1;
                String line;
                while ((line = lines.next()) != null) {
                    if (line.isBlank()) {
                        if (!doc.isEmpty()) {
                            break;
                        }
                        continue;
                    }
                    if (doc.isEmpty()) {
                        first = lines.lineNumber();
                    } else {
                        doc.append('\n');
                    }
                    doc.append(line);
                }
                return doc.isEmpty() ? null : new Document(index++, doc.toString(), file + " line " + first);
            }

            @Override
            public OptionalLong size() {
                return OptionalLong.empty();
            }

            @Override
            public void close() throws IOException {
                lines.close();
            }
        };
    }

    /** One document per file, in the order given. */
    static DocumentReader files(List<Path> files) {
        return new DocumentReader() {
            private int index;

            @Override
            public Document next() throws IOException {
                if (index >= files.size()) {
                    return null;
                }
                Path f = files.get(index);
                String text = Utf8Lines.decode(f, ByteBuffer.wrap(Files.readAllBytes(f)), Utf8Lines.strictDecoder(),
                        "the whole file is one document", 0);
                return new Document(index++, text, f.toString());
            }

            @Override
            public OptionalLong size() {
                return OptionalLong.of(files.size());
            }

            @Override
            public void close() {
                index = files.size();
            }
        };
    }
}
