package io.github.sae4j.core.backend.java;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Vector API inner loops over array slices. Each has a fixed summation order, so results are reproducible. */
final class Kernels {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private Kernels() {
    }

    /** {@code sum a[ao + i] * b[bo + i]} over n elements: float lanes, four accumulators, reduced in double. */
    static double dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(S);
        FloatVector acc1 = FloatVector.zero(S);
        FloatVector acc2 = FloatVector.zero(S);
        FloatVector acc3 = FloatVector.zero(S);
        int i = 0;
        int upper4 = n - 4 * L + 1;
        for (; i < upper4; i += 4 * L) {
            acc0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(S, a, ao + i + L).fma(FloatVector.fromArray(S, b, bo + i + L), acc1);
            acc2 = FloatVector.fromArray(S, a, ao + i + 2 * L).fma(FloatVector.fromArray(S, b, bo + i + 2 * L), acc2);
            acc3 = FloatVector.fromArray(S, a, ao + i + 3 * L).fma(FloatVector.fromArray(S, b, bo + i + 3 * L), acc3);
        }
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            acc0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc0);
        }
        double sum = sumLanes(acc0.add(acc1).add(acc2.add(acc3)));
        for (; i < n; i++) {
            sum += (double) a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /** {@code sum (a[ao + i] - b[bo + i])^2} over n elements. */
    static double squaredDistance(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(S);
        FloatVector acc1 = FloatVector.zero(S);
        int i = 0;
        int upper2 = n - 2 * L + 1;
        for (; i < upper2; i += 2 * L) {
            FloatVector d0 = FloatVector.fromArray(S, a, ao + i).sub(FloatVector.fromArray(S, b, bo + i));
            FloatVector d1 = FloatVector.fromArray(S, a, ao + i + L).sub(FloatVector.fromArray(S, b, bo + i + L));
            acc0 = d0.fma(d0, acc0);
            acc1 = d1.fma(d1, acc1);
        }
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector d0 = FloatVector.fromArray(S, a, ao + i).sub(FloatVector.fromArray(S, b, bo + i));
            acc0 = d0.fma(d0, acc0);
        }
        double sum = sumLanes(acc0.add(acc1));
        for (; i < n; i++) {
            double d = (double) a[ao + i] - b[bo + i];
            sum += d * d;
        }
        return sum;
    }

    /**
     * Adds the lanes in lane order. {@code reduceLanes(ADD)} leaves the order unspecified, and the interpreter and
     * the JIT-compiled intrinsic do differ, which made two runs of the same training differ in the last bits.
     */
    static double sumLanes(FloatVector v) {
        double s = 0;
        for (int lane = 0; lane < L; lane++) {
            s += v.lane(lane);
        }
        return s;
    }

    /** {@code y[yo + i] += alpha * x[xo + i]} over n elements. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
        }
    }

    /** {@code x[xo + i] *= alpha} over n elements. */
    static void scale(float alpha, float[] x, int xo, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, x, xo + i).mul(alpha).intoArray(x, xo + i);
        }
        for (; i < n; i++) {
            x[xo + i] *= alpha;
        }
    }
}
