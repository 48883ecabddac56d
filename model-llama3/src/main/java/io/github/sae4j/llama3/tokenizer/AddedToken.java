package io.github.sae4j.llama3.tokenizer;

/**
 * A token matched in the text before pre-tokenization ({@code added_tokens} of {@code tokenizer.json}).
 *
 * <p>Special tokens ({@code <|eot_id|>}) are matched only when asked for; non-special added tokens always are, as in
 * Hugging Face. {@code lstrip}/{@code rstrip}: the token swallows the whitespace on that side.
 */
record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip) {

    AddedToken {
        if (content.isEmpty()) {
            throw new IllegalArgumentException("added token " + id + " has empty content");
        }
    }
}
