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

    /**
     * Four axpys into one row: {@code y += a0 x0 + a1 x1 + a2 x2 + a3 x3}, as fused multiply-adds in that order, so
     * the result equals four {@link #axpy} calls bit for bit while y is loaded and stored once and the four source
     * rows stream in parallel.
     */
    static void axpy4(float a0, float[] x0, int o0, float a1, float[] x1, int o1, float a2, float[] x2, int o2,
                      float a3, float[] x3, int o3, float[] y, int yo, int n) {
        FloatVector v0 = FloatVector.broadcast(S, a0);
        FloatVector v1 = FloatVector.broadcast(S, a1);
        FloatVector v2 = FloatVector.broadcast(S, a2);
        FloatVector v3 = FloatVector.broadcast(S, a3);
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector acc = FloatVector.fromArray(S, y, yo + i);
            acc = FloatVector.fromArray(S, x0, o0 + i).fma(v0, acc);
            acc = FloatVector.fromArray(S, x1, o1 + i).fma(v1, acc);
            acc = FloatVector.fromArray(S, x2, o2 + i).fma(v2, acc);
            acc = FloatVector.fromArray(S, x3, o3 + i).fma(v3, acc);
            acc.intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            float acc = y[yo + i];
            acc = Math.fma(a0, x0[o0 + i], acc);
            acc = Math.fma(a1, x1[o1 + i], acc);
            acc = Math.fma(a2, x2[o2 + i], acc);
            acc = Math.fma(a3, x3[o3 + i], acc);
            y[yo + i] = acc;
        }
    }

    /**
     * A dot product with two interleaved accumulators, the structure {@link #dots4} uses for each of its four
     * products, so a product comes out the same whichever of the two computed it.
     */
    static float dot2(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector even = FloatVector.zero(S);
        FloatVector odd = FloatVector.zero(S);
        int i = 0;
        int upper2 = n - 2 * L + 1;
        for (; i < upper2; i += 2 * L) {
            even = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), even);
            odd = FloatVector.fromArray(S, a, ao + i + L).fma(FloatVector.fromArray(S, b, bo + i + L), odd);
        }
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            even = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), even);
        }
        double sum = sumLanes(even.add(odd));
        for (; i < n; i++) {
            sum += (double) a[ao + i] * b[bo + i];
        }
        return (float) sum;
    }

    /** Four dot products of one row {@code a} with four rows, each computed exactly as {@link #dot2} would. */
    static void dots4(float[] a, int ao, float[] w, int o0, int o1, int o2, int o3, int n, float[] out, int outOffset) {
        FloatVector e0 = FloatVector.zero(S);
        FloatVector e1 = FloatVector.zero(S);
        FloatVector e2 = FloatVector.zero(S);
        FloatVector e3 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S);
        FloatVector d1 = FloatVector.zero(S);
        FloatVector d2 = FloatVector.zero(S);
        FloatVector d3 = FloatVector.zero(S);
        int i = 0;
        int upper2 = n - 2 * L + 1;
        for (; i < upper2; i += 2 * L) {
            FloatVector x = FloatVector.fromArray(S, a, ao + i);
            e0 = x.fma(FloatVector.fromArray(S, w, o0 + i), e0);
            e1 = x.fma(FloatVector.fromArray(S, w, o1 + i), e1);
            e2 = x.fma(FloatVector.fromArray(S, w, o2 + i), e2);
            e3 = x.fma(FloatVector.fromArray(S, w, o3 + i), e3);
            FloatVector y = FloatVector.fromArray(S, a, ao + i + L);
            d0 = y.fma(FloatVector.fromArray(S, w, o0 + i + L), d0);
            d1 = y.fma(FloatVector.fromArray(S, w, o1 + i + L), d1);
            d2 = y.fma(FloatVector.fromArray(S, w, o2 + i + L), d2);
            d3 = y.fma(FloatVector.fromArray(S, w, o3 + i + L), d3);
        }
        int upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, ao + i);
            e0 = x.fma(FloatVector.fromArray(S, w, o0 + i), e0);
            e1 = x.fma(FloatVector.fromArray(S, w, o1 + i), e1);
            e2 = x.fma(FloatVector.fromArray(S, w, o2 + i), e2);
            e3 = x.fma(FloatVector.fromArray(S, w, o3 + i), e3);
        }
        double s0 = sumLanes(e0.add(d0));
        double s1 = sumLanes(e1.add(d1));
        double s2 = sumLanes(e2.add(d2));
        double s3 = sumLanes(e3.add(d3));
        for (; i < n; i++) {
            double x = a[ao + i];
            s0 += x * w[o0 + i];
            s1 += x * w[o1 + i];
            s2 += x * w[o2 + i];
            s3 += x * w[o3 + i];
        }
        out[outOffset] = (float) s0;
        out[outOffset + 1] = (float) s1;
        out[outOffset + 2] = (float) s2;
        out[outOffset + 3] = (float) s3;
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
