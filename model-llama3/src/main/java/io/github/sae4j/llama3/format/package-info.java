/**
 * Model file readers: Hugging Face safetensors (single file or sharded) and GGUF, both memory-mapped with the FFM
 * API so that weights are zero-copy {@link io.github.sae4j.llama3.format.TensorData} slices behind one
 * {@link io.github.sae4j.llama3.format.ModelTensors} view. Headers are validated when opening, so a damaged or
 * unsupported file fails with its path and the offending key or tensor instead of deep inside the forward pass.
 */
package io.github.sae4j.llama3.format;
