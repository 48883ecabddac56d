package io.github.sae4j.llama3.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code tokenizer.json}, {@code tokenizer_config.json} and {@code generation_config.json} of a Hugging Face
 * model directory, and refuses anything that is not the Llama 3 byte-level BPE scheme rather than encode it wrongly.
 */
final class HuggingFaceTokenizerFiles {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceTokenizerFiles() {}

    static Llama3Tokenizer read(Path modelDirOrFile) throws IOException {
        Path dir = Files.isDirectory(modelDirOrFile) ? modelDirOrFile : modelDirOrFile.toAbsolutePath().getParent();
        Path tokenizerFile = dir.resolve("tokenizer.json");
        Path configFile = dir.resolve("tokenizer_config.json");
        Path generationFile = dir.resolve("generation_config.json");
        JsonNode tokenizer = readJson(tokenizerFile, "the BPE vocabulary, merges and special tokens");
        JsonNode config = readJson(configFile, "bos_token, eos_token and the chat template");
        JsonNode generation = Files.exists(generationFile) ? readJson(generationFile, "") : null;

        String tok = tokenizerFile.toString();
        JsonNode model = require(tokenizer, "model", tok, "an object with the BPE vocabulary and merges");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw bad(tok, "model.type", "\"" + type + "\"", "\"BPE\" (Llama 3 uses byte-level BPE; this looks like"
                    + " a different tokenizer family)");
        }
        if (model.path("byte_fallback").asBoolean(false) || !model.path("dropout").isNull()
                && !model.path("dropout").isMissingNode()) {
            throw bad(tok, "model.byte_fallback / model.dropout", "set", "byte_fallback false and dropout null, as in"
                    + " Llama 3");
        }
        checkByteLevel(tokenizer, tok);

        JsonNode vocabNode = require(model, "vocab", tok + " model", "an object {token: id}");
        Map<String, Integer> vocab = HashMap.newHashMap(vocabNode.size());
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        JsonNode mergesNode = model.get("merges");
        if (mergesNode == null || !mergesNode.isArray()) {
            throw new IllegalArgumentException(tok + ": model.merges is missing; expected the ranked BPE merges as"
                    + " [\"a b\", ...] or [[\"a\", \"b\"], ...]; without them no word can be encoded. Use the complete"
                    + " tokenizer.json of the model (re-download it)");
        }
        List<String[]> merges = new ArrayList<>(mergesNode.size());
        for (int rank = 0; rank < mergesNode.size(); rank++) {
            JsonNode m = mergesNode.get(rank);
            if (m.isTextual()) {
                merges.add(Llama3Tokenizer.splitMerge(tok + ": model.merges", rank, m.asText()));
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                throw bad(tok, "model.merges[" + rank + "]", m.toString(), "\"a b\" or [\"a\", \"b\"]");
            }
        }

        List<AddedToken> added = new ArrayList<>();
        Map<String, Integer> addedIds = new HashMap<>();
        for (JsonNode a : tokenizer.path("added_tokens")) {
            AddedToken t = new AddedToken(require(a, "id", tok + " added_tokens[]", "an int").asInt(),
                    require(a, "content", tok + " added_tokens[]", "a string").asText(),
                    a.path("special").asBoolean(false), a.path("lstrip").asBoolean(false),
                    a.path("rstrip").asBoolean(false));
            added.add(t);
            addedIds.put(t.content(), t.id());
        }

        String cfg = configFile.toString();
        int bos = -1;
        String bosText = tokenText(config.get("bos_token"));
        if (bosText != null) {
            bos = idOf(bosText, addedIds, vocab, cfg, "bos_token");
        }
        int[] eos;
        JsonNode eosIds = generation == null ? null : generation.get("eos_token_id");
        if (eosIds != null && !eosIds.isNull()) {
            if (eosIds.isArray()) {
                eos = new int[eosIds.size()];
                for (int i = 0; i < eos.length; i++) {
                    eos[i] = eosIds.get(i).asInt();
                }
            } else if (eosIds.canConvertToInt()) {
                eos = new int[] {eosIds.asInt()};
            } else {
                throw bad(generationFile.toString(), "eos_token_id", eosIds.toString(), "an int or a list of ints");
            }
        } else {
            String eosText = tokenText(config.get("eos_token"));
            if (eosText == null) {
                throw new IllegalArgumentException(cfg + ": eos_token is missing and there is no eos_token_id in "
                        + generationFile + "; expected e.g. \"eos_token\": \"<|eot_id|>\" so that generation can stop");
            }
            eos = new int[] {idOf(eosText, addedIds, vocab, cfg, "eos_token")};
        }
        JsonNode template = config.get("chat_template");
        String chatTemplate = template != null && template.isTextual() ? template.asText() : null;
        if (template != null && template.isArray()) {
            // Named templates [{"name": "default", "template": ...}, ...]: use the default one.
            for (JsonNode named : template) {
                if ("default".equals(named.path("name").asText())) {
                    chatTemplate = named.path("template").asText(null);
                }
            }
        }
        boolean addBos = config.path("add_bos_token").asBoolean(true);
        boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);
        return new Llama3Tokenizer(tok, vocab, merges, ignoreMerges, added, bos, eos, chatTemplate, addBos);
    }

    /** Llama 3's pipeline: Split(Llama 3 regex, Isolated) then ByteLevel without its own regex; ByteLevel decoder. */
    private static void checkByteLevel(JsonNode tokenizer, String tok) {
        JsonNode normalizer = tokenizer.get("normalizer");
        if (normalizer != null && !normalizer.isNull()) {
            throw bad(tok, "normalizer", normalizer.path("type").asText(), "null (Llama 3 has no normalizer)");
        }
        JsonNode pre = tokenizer.path("pre_tokenizer");
        List<JsonNode> steps = new ArrayList<>();
        if ("Sequence".equals(pre.path("type").asText())) {
            pre.path("pretokenizers").forEach(steps::add);
        } else {
            steps.add(pre);
        }
        String expected = "Sequence[Split(Regex = Llama 3's pattern, behavior Isolated, invert false),"
                + " ByteLevel(add_prefix_space false, use_regex false)], as in Meta's Llama 3 tokenizer.json";
        boolean ok = steps.size() == 2
                && "Split".equals(steps.get(0).path("type").asText())
                && Llama3PreTokenizer.LLAMA3_PATTERN.equals(steps.get(0).path("pattern").path("Regex").asText())
                && "Isolated".equals(steps.get(0).path("behavior").asText("Isolated"))
                && !steps.get(0).path("invert").asBoolean(false)
                && "ByteLevel".equals(steps.get(1).path("type").asText())
                && !steps.get(1).path("add_prefix_space").asBoolean(false)
                && !steps.get(1).path("use_regex").asBoolean(true);
        if (!ok) {
            throw bad(tok, "pre_tokenizer", pre.toString().length() > 300 ? pre.toString().substring(0, 300) + "..."
                    : pre.toString(), expected);
        }
        if (!"ByteLevel".equals(tokenizer.path("decoder").path("type").asText())) {
            throw bad(tok, "decoder.type", tokenizer.path("decoder").path("type").asText("(missing)"),
                    "\"ByteLevel\"");
        }
    }

    private static JsonNode readJson(Path file, String holds) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "not found; a Hugging Face Llama 3 model directory"
                    + " needs " + file.getFileName() + " (" + holds + "): download it with the model files");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new IOException(file + " is not valid JSON (" + e.getOriginalMessage() + "); re-download it", e);
        }
    }

    private static JsonNode require(JsonNode node, String key, String where, String expected) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(where + ": key \"" + key + "\" is missing; expected " + expected
                    + ". Use the complete tokenizer files of the model");
        }
        return v;
    }

    private static IllegalArgumentException bad(String file, String key, String found, String expected) {
        return new IllegalArgumentException(file + ": " + key + " is " + found + "; expected " + expected);
    }

    /** {@code "<|x|>"} or {@code {"content": "<|x|>", ...}} (older configs), or {@code null}. */
    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isObject() ? node.path("content").asText(null) : node.asText();
    }

    private static int idOf(String content, Map<String, Integer> added, Map<String, Integer> vocab, String file,
            String key) {
        Integer id = added.containsKey(content) ? added.get(content) : vocab.get(content);
        if (id == null) {
            throw new IllegalArgumentException(file + ": " + key + " is \"" + content + "\", which is neither an"
                    + " added token nor in the vocabulary of tokenizer.json; the files come from different models");
        }
        return id;
    }
}
