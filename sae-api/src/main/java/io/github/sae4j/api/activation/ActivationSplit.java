package io.github.sae4j.api.activation;

/** Which part of a source to read when it is split into training and validation data. */
public enum ActivationSplit {
    /** Everything. */
    ALL,
    /** The rows not held out. */
    TRAIN,
    /** The held-out rows. */
    VALIDATION
}
