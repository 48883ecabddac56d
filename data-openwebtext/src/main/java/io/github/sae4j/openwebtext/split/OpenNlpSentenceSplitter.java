package io.github.sae4j.openwebtext.split;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Properties;
import opennlp.tools.sentdetect.SentenceModel;
import opennlp.tools.sentdetect.ThreadSafeSentenceDetectorME;
import opennlp.tools.util.Span;

/**
 * Apache OpenNLP's maximum-entropy sentence detector with its English model (trained on the Universal Dependencies
 * English Web Treebank), loaded from the {@code opennlp-models-sentdetect-en} jar on the classpath.
 *
 * <p>The model knows nothing of line structure, so blank lines are split on first, as every splitter here does;
 * single newlines are left to the model. Thread-safe: OpenNLP's {@link ThreadSafeSentenceDetectorME} keeps one
 * detector per thread over the shared, immutable model.
 */
public final class OpenNlpSentenceSplitter implements SentenceSplitter {

    public static final String NAME = "opennlp";

    /** The model file inside opennlp-models-sentdetect-en 1.3.0; other versions are found by model.properties. */
    private static final String KNOWN_MODEL = "opennlp-en-ud-ewt-sentence-1.3-2.5.4.bin";

    private final ThreadSafeSentenceDetectorME detector;
    private final String modelName;

    public OpenNlpSentenceSplitter() {
        this.modelName = findModelName();
        try (InputStream in = OpenNlpSentenceSplitter.class.getClassLoader().getResourceAsStream(modelName)) {
            if (in == null) {
                throw new IllegalStateException("OpenNLP sentence model '" + modelName + "' is not on the classpath;"
                        + " add org.apache.opennlp:opennlp-models-sentdetect-en to the dependencies");
            }
            this.detector = new ThreadSafeSentenceDetectorME(new SentenceModel(in));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read OpenNLP sentence model '" + modelName + "' from the classpath;"
                    + " the opennlp-models-sentdetect-en jar may be corrupt: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The classpath resource the model was read from. */
    public String modelName() {
        return modelName;
    }

    @Override
    public List<TextSpan> split(String text) {
        List<TextSpan> out = new ArrayList<>();
        int n = text.length();
        int start = 0;
        while (start < n) {
            int end = paragraphEnd(text, start);
            String paragraph = text.substring(start, end);
            for (Span span : detector.sentPosDetect(paragraph)) {
                emit(text, start + span.getStart(), start + span.getEnd(), out);
            }
            start = end;
        }
        return out;
    }

    /** The end of the paragraph at {@code from}: just past the first blank line after it, or the end of the text. */
    private static int paragraphEnd(String text, int from) {
        int n = text.length();
        int nl = text.indexOf('\n', from);
        while (nl >= 0) {
            int p = nl + 1;
            while (p < n && text.charAt(p) != '\n' && RuleSentenceSplitter.isSpace(text.charAt(p))) {
                p++;
            }
            if (p >= n) {
                return n;
            }
            if (text.charAt(p) == '\n') {
                return p + 1;
            }
            nl = text.indexOf('\n', p);
        }
        return n;
    }

    private static void emit(String text, int start, int end, List<TextSpan> out) {
        while (start < end && RuleSentenceSplitter.isSpace(text.charAt(start))) {
            start++;
        }
        while (end > start && RuleSentenceSplitter.isSpace(text.charAt(end - 1))) {
            end--;
        }
        if (end > start) {
            out.add(new TextSpan(start, end));
        }
    }

    /** The English sentence model named by a model.properties on the classpath, else the known 1.3.0 file name. */
    private static String findModelName() {
        try {
            Enumeration<URL> found = OpenNlpSentenceSplitter.class.getClassLoader().getResources("model.properties");
            while (found.hasMoreElements()) {
                Properties properties = new Properties();
                try (InputStream in = found.nextElement().openStream()) {
                    properties.load(in);
                }
                String name = properties.getProperty("model.name", "");
                if ("en".equals(properties.getProperty("model.language")) && name.contains("-sentence-")) {
                    return name;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list model.properties on the classpath to find the OpenNLP"
                    + " English sentence model: " + e.getMessage(), e);
        }
        return KNOWN_MODEL;
    }
}
