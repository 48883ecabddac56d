package io.github.sae4j.core.capture;

/** Hears about a capture's progress (for progress bars); called on the capture's thread after every forward. */
@FunctionalInterface
public interface CaptureListener {

    /**
     * @param progress   totals so far
     * @param sentencesInRun sentences read by this run alone (not the resumed part), for rates
     * @param tokensInRun    tokens fed by this run alone
     */
    void onProgress(CaptureProgress progress, long sentencesInRun, long tokensInRun);

    CaptureListener NONE = (p, s, t) -> { };
}
