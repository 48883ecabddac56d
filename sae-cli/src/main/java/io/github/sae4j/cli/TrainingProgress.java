package io.github.sae4j.cli;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import io.github.sae4j.core.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows training on the console: a progress bar with the loss, FVU, L0 and dead fraction on a terminal; on a pipe
 * or in a log, one line every few seconds instead of a redrawn bar.
 */
final class TrainingProgress implements Trainer.Listener, AutoCloseable {

    private final PrintWriter out;
    private final boolean quiet;
    private final boolean terminal;
    private ProgressBar bar;
    private long lastLine;
    private long totalSteps;
    private long startStep;
    private long startNanos;

    TrainingProgress(PrintWriter out, boolean quiet) {
        this.out = out;
        this.quiet = quiet;
        this.terminal = System.console() != null && System.console().isTerminal();
    }

    @Override
    public void onStart(long firstStep, long totalSteps, SaeSpec spec, Device device) {
        this.totalSteps = totalSteps;
        this.startStep = firstStep - 1;
        this.startNanos = System.nanoTime();
        out.printf(Locale.ROOT, "training %s SAE: d_in=%d, latents=%d, settings=%s, normalization %s (input scale "
                + "%.4g)%n", spec.architecture(), spec.dIn(), spec.dSae(), spec.settings(), spec.normalization(),
                spec.inputScale());
        out.printf("device: %s %d (%s)%n", device.backend().name(), device.index(), device.description());
        if (firstStep > totalSteps) {
            out.println("the run has already reached its last step");
        }
        out.flush();
        if (!quiet && terminal) {
            bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).startsFrom(firstStep - 1,
                    java.time.Duration.ZERO).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(250)
                    .setMaxRenderedLength(120).build();
        }
    }

    @Override
    public void onStep(long step, TrainingStepResult result, double learningRate, double deadFraction) {
        String message = String.format(Locale.ROOT, "loss %.4f  fvu %.4f  L0 %.1f  dead %.1f%%", result.loss(),
                result.terms().getOrDefault("fvu", Double.NaN), result.l0(), 100 * deadFraction);
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(" " + message);
        } else if (!quiet) {
            long now = System.nanoTime();
            if (now - lastLine > 5_000_000_000L || step == totalSteps) {
                lastLine = now;
                double seconds = (now - startNanos) / 1e9;
                double rate = (step - startStep) / Math.max(seconds, 1e-9);
                double eta = (totalSteps - step) / Math.max(rate, 1e-9);
                out.printf(Locale.ROOT, "step %d/%d (%.0f%%, %.1f steps/s, eta %s)  %s%n", step, totalSteps,
                        100.0 * step / totalSteps, rate, duration(eta), message);
                out.flush();
            }
        }
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60)
                : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }

    @Override
    public void onValidation(long step, ReconstructionMetrics.Result r) {
        if (quiet) {
            return;
        }
        String line = String.format(Locale.ROOT,
                "validation at step %d: FVU %.4f  FVE %.4f  L0 %.1f  cosine %.4f  L2 ratio %.3f  dead %.1f%% (%d tokens)",
                step, r.fvu(), r.fve(), r.l0(), r.cosine(), r.l2Ratio(), 100 * r.deadFraction(), r.tokens());
        if (bar != null) {
            // Print above the bar without tearing it.
            System.err.print("\r\033[2K");
            out.println(line);
            out.flush();
        } else {
            out.println(line);
            out.flush();
        }
    }

    @Override
    public void onCheckpoint(long step, Path directory) {
    }

    @Override
    public void onMessage(String message) {
        out.println(message);
        out.flush();
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
