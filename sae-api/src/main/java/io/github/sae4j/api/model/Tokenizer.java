package io.github.sae4j.api.model;

/** Text to token ids and back. */
public interface Tokenizer {

    int vocabSize();

    /** Encodes text; with {@code addBos} the beginning-of-text token comes first. Special-token text is encoded as text. */
    int[] encode(String text, boolean addBos);

    /** Decodes tokens to text; lossless for text that {@link #encode} produced. */
    String decode(int[] tokens);

    /** The text of one token, for display (bytes that are not complete UTF-8 shown as replacement characters). */
    String tokenText(int token);

    /** Beginning-of-text token id, or -1. */
    int bosToken();

    /** Tokens that end generation (end-of-text, end-of-turn). */
    int[] stopTokens();

    /**
     * Whether {@code token} is a control token (beginning of text, end of turn, chat headers, reserved) rather than
     * text. The default knows only BOS and the stop tokens; tokenizers with a list of special tokens override it.
     */
    default boolean isSpecial(int token) {
        if (token == bosToken()) {
            return true;
        }
        for (int t : stopTokens()) {
            if (t == token) {
                return true;
            }
        }
        return false;
    }

    /**
     * Renders a chat with the model's chat template and encodes it, special tokens included; with
     * {@code addGenerationPrompt} it ends with the header that asks for the assistant's reply.
     *
     * @throws UnsupportedOperationException if the model has no chat template
     */
    default int[] encodeChat(java.util.List<ChatMessage> messages, boolean addGenerationPrompt) {
        throw new UnsupportedOperationException("this tokenizer has no chat template");
    }

    /** A decoder that turns a token stream into text without ever emitting a partial UTF-8 character. */
    StreamingDecoder streamingDecoder();

    /** Incremental decoding for streamed generation. */
    interface StreamingDecoder {

        /** Adds a token; returns the text that is now complete (possibly empty). */
        String push(int token);

        /** Returns whatever is left, with incomplete bytes as replacement characters. */
        String finish();
    }
}
