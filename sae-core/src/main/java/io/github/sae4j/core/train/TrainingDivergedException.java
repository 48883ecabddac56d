package io.github.sae4j.core.train;

/** Training produced a non-finite loss; the message says at which step and what to try. */
public final class TrainingDivergedException extends IllegalStateException {

    public TrainingDivergedException(String message) {
        super(message);
    }
}
