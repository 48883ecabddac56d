package io.github.sae4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.sae4j.api.activation.ActivationStatistics;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WelfordStatisticsTest {

    private static final int D = 5;

    /** Rows far from zero with small spread: the case where a naive sum of squares loses every digit. */
    private static float[] rows(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n * D];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (1000 * (i % D) + random.nextDouble(-1, 1));
        }
        return v;
    }

    private static double[][] twoPass(float[] v, int n) {
        double[] mean = new double[D];
        double[] m2 = new double[D];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < D; j++) {
                mean[j] += v[r * D + j];
            }
        }
        for (int j = 0; j < D; j++) {
            mean[j] /= n;
        }
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < D; j++) {
                double d = v[r * D + j] - mean[j];
                m2[j] += d * d;
            }
        }
        return new double[][] {mean, m2};
    }

    private static void assertClose(WelfordStatistics s, double[][] expected) {
        for (int j = 0; j < D; j++) {
            assertThat(s.mean()[j]).as("mean[%d]", j).isCloseTo(expected[0][j], within(1e-9 * (1 + Math.abs(expected[0][j]))));
            assertThat(s.m2()[j]).as("m2[%d]", j).isCloseTo(expected[1][j], within(1e-9 * expected[1][j]));
        }
    }

    @Test
    void rowByRowAndBlocksEqualTwoPass() {
        float[] v = rows(1000, 1);
        WelfordStatistics oneByOne = new WelfordStatistics(D);
        for (int r = 0; r < 1000; r++) {
            oneByOne.add(v, r * D, 1);
        }
        WelfordStatistics blocks = new WelfordStatistics(D);
        int r = 0;
        for (int size : new int[] {3, 1, 250, 0, 500, 246}) {
            blocks.add(v, r * D, size);
            r += size;
        }
        double[][] expected = twoPass(v, 1000);
        assertThat(oneByOne.count()).isEqualTo(1000);
        assertThat(blocks.count()).isEqualTo(1000);
        assertClose(oneByOne, expected);
        assertClose(blocks, expected);
    }

    @Test
    void mergeEqualsAddingEverything() {
        float[] v = rows(700, 2);
        WelfordStatistics a = new WelfordStatistics(D);
        a.add(v, 0, 200);
        WelfordStatistics b = new WelfordStatistics(D);
        b.add(v, 200 * D, 500);
        a.merge(b);
        a.merge(new WelfordStatistics(D));
        WelfordStatistics empty = new WelfordStatistics(D);
        empty.merge(a);
        assertThat(a.count()).isEqualTo(700);
        assertClose(a, twoPass(v, 700));
        assertThat(empty.mean()).isEqualTo(a.mean());
        assertThat(empty.m2()).isEqualTo(a.m2());
    }

    @Test
    void statisticsArePopulationVariance() {
        WelfordStatistics s = new WelfordStatistics(1);
        s.add(new float[] {1, 2, 3, 4}, 0, 4);
        ActivationStatistics stats = s.toStatistics();
        assertThat(stats.count()).isEqualTo(4);
        assertThat(stats.mean()).containsExactly(2.5);
        assertThat(stats.variance()).containsExactly(1.25);
        assertThat(new WelfordStatistics(3).toStatistics().variance()).containsExactly(0, 0, 0);
    }

    @Test
    void restoresAndValidatesState() {
        WelfordStatistics s = WelfordStatistics.of(4, new double[] {2.5}, new double[] {5});
        assertThat(s.variance()).containsExactly(1.25);
        assertThatThrownBy(() -> WelfordStatistics.of(4, new double[] {1, 2}, new double[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mean has 2 values but m2 has 1");
        assertThatThrownBy(() -> WelfordStatistics.of(4, new double[] {1}, new double[] {-1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("m2 >= 0");
        assertThatThrownBy(() -> new WelfordStatistics(2).merge(new WelfordStatistics(3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("d_model 3 into 2");
    }
}
