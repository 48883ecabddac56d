package io.github.sae4j.llama3.tokenizer;

import io.github.sae4j.api.model.ChatMessage;
import io.github.sae4j.api.model.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Llama 3 tokenizer: byte-level BPE that gives the same ids as Hugging Face {@code tokenizers} with Meta's
 * {@code tokenizer.json} (Llama 3, 3.1, 3.2, 3.3).
 *
 * <p>Encoding: added tokens are cut out of the text first (special ones only by
 * {@link #encodeWithSpecialTokens}), each remaining segment is split by Llama 3's pre-tokenizer regex, each piece is
 * turned into bytes, then into GPT-2's byte alphabet, and merged by rank ({@code ignore_merges}: a piece that is a
 * vocabulary token stays whole). Pieces are cached (bounded), because natural text repeats words.
 *
 * <p>Decoding is lossless for valid Unicode: token bytes are concatenated, then decoded as UTF-8 once. Strings with
 * unpaired surrogates are not valid Unicode; their surrogates encode as {@code ?}, as {@link String#getBytes} does.
 *
 * <p>Thread-safe: the piece cache is concurrent; streaming decoders are per stream.
 */
public final class Llama3Tokenizer implements Tokenizer {

    private static final int CACHE_MAX_ENTRIES = 100_000;
    private static final int CACHE_MAX_PIECE_CHARS = 64;

    private final String source;
    private final BytePairMerges bpe;
    private final byte[][] tokenBytes;
    private final Map<String, AddedToken> addedByContent = new HashMap<>();
    /** Added tokens by first char, longest first: the leftmost-longest match of Hugging Face's Aho-Corasick. */
    private final Map<Character, AddedToken[]> addedByFirstChar = new HashMap<>();
    private final BitSet addedFirstChars = new BitSet(Character.MAX_VALUE + 1);
    private final boolean anyNonSpecialAdded;
    /** Ids of the added tokens marked special (Meta's 256 control and reserved tokens). */
    private final java.util.BitSet special;
    private final int bos;
    private final int[] eos;
    private final String chatTemplate;
    private final boolean addBosByDefault;
    private final Map<String, int[]> pieceCache = new ConcurrentHashMap<>();

    /**
     * @param source what the tokenizer was read from, for error messages
     * @param vocab byte-level token string to id
     * @param merges pairs in rank order
     * @param added tokens matched before pre-tokenization
     * @param bos beginning-of-text id or -1
     * @param eos end-of-generation ids
     * @param chatTemplate Jinja chat template or {@code null}
     */
    Llama3Tokenizer(String source, Map<String, Integer> vocab, List<String[]> merges, boolean ignoreMerges,
            List<AddedToken> added, int bos, int[] eos, String chatTemplate, boolean addBosByDefault) {
        this.source = Objects.requireNonNull(source, "source");
        this.bpe = new BytePairMerges(source, vocab, merges, ignoreMerges);
        int maxId = -1;
        for (int id : vocab.values()) {
            if (id < 0) {
                throw new IllegalArgumentException(source + ": negative token id " + id + " in the vocabulary");
            }
            maxId = Math.max(maxId, id);
        }
        for (AddedToken t : added) {
            if (t.id() < 0) {
                throw new IllegalArgumentException(source + ": added token \"" + t.content() + "\" has id " + t.id());
            }
            maxId = Math.max(maxId, t.id());
        }
        this.tokenBytes = new byte[maxId + 1][];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            byte[] bytes = ByteLevel.decode(e.getKey());
            // A token outside the byte alphabet cannot come out of BPE; show it as its own text.
            tokenBytes[e.getValue()] = bytes != null ? bytes : e.getKey().getBytes(StandardCharsets.UTF_8);
        }
        boolean nonSpecial = false;
        Map<Character, List<AddedToken>> byFirst = new HashMap<>();
        this.special = new java.util.BitSet(maxId + 1);
        for (AddedToken t : added) {
            if (t.special()) {
                special.set(t.id());
            }
            addedByContent.put(t.content(), t);
            if (!vocab.containsKey(t.content()) || vocab.get(t.content()) != t.id()) {
                tokenBytes[t.id()] = t.content().getBytes(StandardCharsets.UTF_8);
            }
            nonSpecial |= !t.special();
            byFirst.computeIfAbsent(t.content().charAt(0), c -> new ArrayList<>()).add(t);
            addedFirstChars.set(t.content().charAt(0));
        }
        byFirst.forEach((c, list) -> addedByFirstChar.put(c, list.stream()
                .sorted(Comparator.comparingInt((AddedToken t) -> -t.content().length()).thenComparing(AddedToken::content))
                .toArray(AddedToken[]::new)));
        this.anyNonSpecialAdded = nonSpecial;
        checkId("bos", bos, true);
        this.bos = bos;
        for (int id : eos) {
            checkId("eos", id, false);
        }
        this.eos = new LinkedHashSet<>(Arrays.stream(eos).boxed().toList()).stream().mapToInt(i -> i).toArray();
        this.chatTemplate = chatTemplate;
        this.addBosByDefault = addBosByDefault;
    }

    private void checkId(String what, int id, boolean allowNone) {
        if ((id == -1 && allowNone) || (id >= 0 && id < tokenBytes.length && tokenBytes[id] != null)) {
            return;
        }
        throw new IllegalArgumentException(source + ": " + what + " token id " + id + " is not in the vocabulary (ids "
                + "0.." + (tokenBytes.length - 1) + "); check the " + what + " setting of the tokenizer files");
    }

    /**
     * Reads a Hugging Face model directory: {@code tokenizer.json} (required), {@code tokenizer_config.json}
     * (required: {@code bos_token}, {@code eos_token}, {@code chat_template}, {@code add_bos_token}) and
     * {@code generation_config.json} (optional: its {@code eos_token_id}, an int or a list, gives the stop tokens;
     * without it {@code eos_token} does).
     *
     * @param modelDir the directory, or its {@code tokenizer.json}
     * @throws IOException if a required file is missing or is not JSON
     * @throws IllegalArgumentException if a file lacks a key or is not a Llama 3 byte-level BPE tokenizer; the
     *     message names the file, the key, what was expected and how to fix it
     */
    public static Llama3Tokenizer fromHuggingFace(Path modelDir) throws IOException {
        return HuggingFaceTokenizerFiles.read(modelDir);
    }

    /**
     * Builds the tokenizer from GGUF metadata ({@code tokenizer.ggml.model == "gpt2"}, pre-tokenizer
     * {@code llama-bpe}).
     *
     * @param source where the metadata comes from (the GGUF file), for error messages
     * @param tokens {@code tokenizer.ggml.tokens}: token strings by id, byte-level for ordinary tokens and raw text
     *     for control and user-defined ones
     * @param merges {@code tokenizer.ggml.merges}: {@code "a b"} strings in rank order
     * @param tokenTypes {@code tokenizer.ggml.token_type} by id, or {@code null} for all normal: 3 (control) is a
     *     special token, 4 (user-defined) an added token that is matched in any text (as llama.cpp and Hugging Face
     *     do for non-special added tokens), anything else (1 normal, 6 byte, 2 unknown, 5 unused) a BPE token
     * @param bos {@code tokenizer.ggml.bos_token_id} or -1
     * @param eos end-of-generation ids ({@code tokenizer.ggml.eos_token_id}, {@code tokenizer.ggml.eot_token_id},
     *     {@code tokenizer.ggml.eom_token_id})
     * @param chatTemplate {@code tokenizer.chat_template} or {@code null}
     * @throws IllegalArgumentException if the lists disagree in length, a merge is malformed or names a token that
     *     is not in the vocabulary, or an id is out of range
     */
    public static Llama3Tokenizer fromVocabulary(String source, List<String> tokens, List<String> merges,
            int[] tokenTypes, int bos, int[] eos, String chatTemplate) {
        if (tokenTypes != null && tokenTypes.length != tokens.size()) {
            throw new IllegalArgumentException(source + ": tokenizer.ggml.token_type has " + tokenTypes.length
                    + " entries but tokenizer.ggml.tokens has " + tokens.size() + "; they must be the same length");
        }
        Map<String, Integer> vocab = HashMap.newHashMap(tokens.size());
        List<AddedToken> added = new ArrayList<>();
        for (int id = 0; id < tokens.size(); id++) {
            int type = tokenTypes == null ? 1 : tokenTypes[id];
            String token = tokens.get(id);
            if (type == 3 || type == 4) {
                added.add(new AddedToken(id, token, type == 3, false, false));
            } else {
                vocab.putIfAbsent(token, id);
            }
        }
        List<String[]> pairs = new ArrayList<>(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            pairs.add(splitMerge(source + " tokenizer.ggml.merges", rank, merges.get(rank)));
        }
        return new Llama3Tokenizer(source, vocab, pairs, true, added, bos, eos == null ? new int[0] : eos,
                chatTemplate, true);
    }

    /** Splits an {@code "a b"} merge at its single space (byte-level tokens have no raw spaces). */
    static String[] splitMerge(String where, int rank, String merge) {
        int space = merge.indexOf(' ');
        if (space <= 0 || space == merge.length() - 1 || merge.indexOf(' ', space + 1) >= 0) {
            throw new IllegalArgumentException(where + "[" + rank + "] is \"" + merge + "\"; expected two tokens"
                    + " separated by one space, like \"Ġ t\"");
        }
        return new String[] {merge.substring(0, space), merge.substring(space + 1)};
    }

    /** Encodes text; special-token text such as {@code <|eot_id|>} is encoded as ordinary text. */
    @Override
    public int[] encode(String text, boolean addBos) {
        return encode(text, addBos, false);
    }

    /**
     * Encodes text in which special-token text such as {@code <|eot_id|>} becomes the special token, as Hugging
     * Face's {@code tokenizer(text)} does. Use only for trusted text: user input could forge turn markers.
     */
    public int[] encodeWithSpecialTokens(String text, boolean addBos) {
        return encode(text, addBos, true);
    }

    private int[] encode(String text, boolean addBos, boolean matchSpecial) {
        IntList ids = new IntList(text.length() / 3 + 2);
        if (addBos) {
            ids.add(requireBos());
        }
        boolean matchAdded = matchSpecial || anyNonSpecialAdded;
        int pos = 0;
        while (pos < text.length()) {
            int start = matchAdded ? findAdded(text, pos, matchSpecial) : -1;
            if (start < 0) {
                encodeOrdinary(text, pos, text.length(), ids);
                break;
            }
            AddedToken token = addedAt(text, start, matchSpecial);
            int segmentEnd = start;
            if (token.lstrip()) {
                while (segmentEnd > pos && isWhiteSpace(text.codePointBefore(segmentEnd))) {
                    segmentEnd -= Character.charCount(text.codePointBefore(segmentEnd));
                }
            }
            encodeOrdinary(text, pos, segmentEnd, ids);
            ids.add(token.id());
            pos = start + token.content().length();
            if (token.rstrip()) {
                while (pos < text.length() && isWhiteSpace(text.codePointAt(pos))) {
                    pos += Character.charCount(text.codePointAt(pos));
                }
            }
        }
        return ids.toArray();
    }

    private int findAdded(String text, int from, boolean matchSpecial) {
        for (int i = from; i < text.length(); i++) {
            if (addedFirstChars.get(text.charAt(i)) && addedAt(text, i, matchSpecial) != null) {
                return i;
            }
        }
        return -1;
    }

    private AddedToken addedAt(String text, int i, boolean matchSpecial) {
        for (AddedToken t : addedByFirstChar.get(text.charAt(i))) {
            if ((matchSpecial || !t.special()) && text.startsWith(t.content(), i)) {
                return t;
            }
        }
        return null;
    }

    private void encodeOrdinary(String text, int start, int end, IntList ids) {
        if (start < end) {
            Llama3PreTokenizer.split(text, start, end, piece -> ids.addAll(encodePiece(piece)));
        }
    }

    private int[] encodePiece(String piece) {
        int[] cached = pieceCache.get(piece);
        if (cached != null) {
            return cached;
        }
        int[] ids = bpe.encode(piece.getBytes(StandardCharsets.UTF_8));
        if (piece.length() <= CACHE_MAX_PIECE_CHARS) {
            if (pieceCache.size() >= CACHE_MAX_ENTRIES) {
                pieceCache.clear(); // crude bound: a full cache of a huge corpus is not worth an LRU's bookkeeping
            }
            pieceCache.put(piece, ids);
        }
        return ids;
    }

    /**
     * Encodes a chat in the Llama 3 Instruct format: {@code <|begin_of_text|>}, then for each message
     * {@code <|start_header_id|>role<|end_header_id|>\n\n} + the content with whitespace trimmed (Jinja
     * {@code trim}) + {@code <|eot_id|>}, and with {@code addGenerationPrompt} the assistant header.
     *
     * <p>Differences from rendering the template: message content is encoded as text, so special-token text in it
     * stays text (Hugging Face would turn it into special tokens); the Llama 3.1 template's default system preamble
     * ("Cutting Knowledge Date: ...") is not added: pass a {@link ChatMessage#system system} message if the model
     * needs it. Tools and images are not supported.
     *
     * @throws UnsupportedOperationException if the model has no chat template or it is not the Llama 3 header format
     * @throws IllegalArgumentException if {@code messages} is empty
     */
    @Override
    public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (chatTemplate == null) {
            throw new UnsupportedOperationException(source + " has no chat template (tokenizer_config.json"
                    + " \"chat_template\" or GGUF tokenizer.chat_template); use a Llama 3 Instruct model, or encode"
                    + " the prompt with encode()");
        }
        if (!chatTemplate.contains("<|start_header_id|>")) {
            throw new UnsupportedOperationException(source + ": the chat template does not use Llama 3's"
                    + " <|start_header_id|>role<|end_header_id|> format, and this tokenizer renders only that format;"
                    + " render the prompt yourself and use encodeWithSpecialTokens()");
        }
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("encodeChat needs at least one message");
        }
        int startHeader = requireChatToken("<|start_header_id|>");
        int endHeader = requireChatToken("<|end_header_id|>");
        int endOfTurn = requireChatToken("<|eot_id|>");
        IntList ids = new IntList(64);
        ids.add(requireBos());
        for (ChatMessage message : messages) {
            ids.add(startHeader);
            encodeOrdinary(message.role().templateName(), ids);
            ids.add(endHeader);
            encodeOrdinary("\n\n" + jinjaTrim(message.content()), ids);
            ids.add(endOfTurn);
        }
        if (addGenerationPrompt) {
            ids.add(startHeader);
            encodeOrdinary("assistant", ids);
            ids.add(endHeader);
            encodeOrdinary("\n\n", ids);
        }
        return ids.toArray();
    }

    private void encodeOrdinary(String text, IntList ids) {
        ids.addAll(encode(text, false, false));
    }

    private int requireChatToken(String content) {
        int id = specialToken(content);
        if (id < 0) {
            throw new UnsupportedOperationException(source + ": the chat template needs the special token " + content
                    + ", which is not in the vocabulary");
        }
        return id;
    }

    private int requireBos() {
        if (bos < 0) {
            throw new IllegalStateException(source + " has no beginning-of-text token (tokenizer_config.json"
                    + " \"bos_token\" / GGUF tokenizer.ggml.bos_token_id); encode with addBos = false");
        }
        return bos;
    }

    /** Jinja's {@code trim} is Python's {@code str.strip()}: Unicode whitespace plus the separators U+001C..U+001F. */
    static String jinjaTrim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.codePointAt(start))) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (end > start && isPythonSpace(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean isPythonSpace(int cp) {
        return isWhiteSpace(cp) || (cp >= 0x1C && cp <= 0x1F);
    }

    /** The Unicode {@code White_Space} property (Rust's {@code char::is_whitespace}). */
    private static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || Character.isSpaceChar(cp);
    }

    @Override
    public String decode(int[] tokens) {
        int length = 0;
        for (int t : tokens) {
            length += bytesOf(t).length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (int t : tokens) {
            byte[] b = bytesOf(t);
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        return new String(all, StandardCharsets.UTF_8);
    }

    /** The raw bytes of a token (UTF-8 of the text for added tokens); the array is shared, do not modify it. */
    byte[] bytesOf(int token) {
        byte[] b = token >= 0 && token < tokenBytes.length ? tokenBytes[token] : null;
        if (b == null) {
            throw new IllegalArgumentException("token id " + token + " is not in the vocabulary of " + source
                    + " (ids 0.." + (tokenBytes.length - 1) + ")");
        }
        return b;
    }

    @Override
    public String tokenText(int token) {
        return new String(bytesOf(token), StandardCharsets.UTF_8);
    }

    @Override
    public StreamingDecoder streamingDecoder() {
        return new Utf8StreamingDecoder(this::bytesOf);
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public int bosToken() {
        return bos;
    }

    @Override
    public boolean isSpecial(int token) {
        return token >= 0 && special.get(token);
    }

    @Override
    public int[] stopTokens() {
        return eos.clone();
    }

    /** The id of an added token such as {@code <|eot_id|>}, or -1. */
    public int specialToken(String content) {
        AddedToken t = addedByContent.get(content);
        return t == null ? -1 : t.id();
    }

    /** Whether the model's files ask for BOS on plain encoding ({@code add_bos_token}; true when unset). */
    public boolean addBosByDefault() {
        return addBosByDefault;
    }

    /** The Jinja chat template, or {@code null}. */
    public String chatTemplate() {
        return chatTemplate;
    }

    @Override
    public String toString() {
        return "Llama3Tokenizer[" + source + ", " + vocabSize() + " ids, " + addedByContent.size() + " added tokens]";
    }

    /** A growable int array, to avoid boxing on the encode path. */
    private static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] vs) {
            if (n + vs.length > a.length) {
                a = Arrays.copyOf(a, Math.max(n * 2, n + vs.length));
            }
            System.arraycopy(vs, 0, a, n, vs.length);
            n += vs.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
