/**
 * The Llama 3 tokenizer: byte-level BPE read from Hugging Face files or GGUF metadata, exact to Hugging Face
 * {@code tokenizers}, with the Llama 3 Instruct chat format. Entry point: {@link io.github.sae4j.llama3.tokenizer.Llama3Tokenizer}.
 */
package io.github.sae4j.llama3.tokenizer;
