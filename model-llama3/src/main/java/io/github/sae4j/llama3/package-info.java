/**
 * Llama 3.x inference: {@code format} reads model files (safetensors, GGUF) by memory mapping, {@code tokenizer}
 * is Llama 3's byte-level BPE, {@code model} is the forward pass, KV cache, hooks and generation, written against
 * the compute backend SPI.
 */
package io.github.sae4j.llama3;
