package io.github.sae4j.api.model;

/**
 * The shape of a language model.
 *
 * @param name          for provenance, for example {@code meta-llama/Llama-3.2-3B}
 * @param architecture  for example {@code llama}
 * @param dModel        residual stream width
 * @param layers        transformer blocks
 * @param vocabSize     logits per position
 * @param maxContext    the longest sequence it accepts
 */
public record ModelInfo(String name, String architecture, int dModel, int layers, int vocabSize, int maxContext) {
}
