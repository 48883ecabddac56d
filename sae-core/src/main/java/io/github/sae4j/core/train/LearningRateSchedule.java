package io.github.sae4j.core.train;

/**
 * Linear warm-up to the peak, then cosine decay to {@code floor * peak} at the last step.
 *
 * @param peak   the learning rate after warm-up
 * @param warmup warm-up steps
 * @param total  all steps of the run
 * @param floor  the final learning rate as a fraction of the peak
 */
public record LearningRateSchedule(double peak, long warmup, long total, double floor) {

    /** The learning rate of optimizer step {@code step} (1-based). */
    public double at(long step) {
        if (step <= warmup) {
            return peak * step / Math.max(1, warmup);
        }
        double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, total - warmup));
        double low = floor * peak;
        return low + (peak - low) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
