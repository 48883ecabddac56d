package io.github.sae4j.api.backend;

/**
 * The operations SAE training, evaluation and the model forward need, on the tensors of one device.
 *
 * <p>Conventions: matrices are row-major {@code [rows, cols]}; vectors are rank 1. A "sparse code"
 * is a pair of {@code [rows, k]} tensors, F32 {@code values} and I32 {@code indices}, that stands
 * for a {@code [rows, n]} matrix with {@code values[r, j]} at column {@code indices[r, j]}; an index
 * of {@code -1} marks an empty slot and is skipped. Outputs never alias inputs unless a method says
 * so. Results must be deterministic: the same inputs give bit-identical outputs on every call,
 * whatever the thread count, so that resumed training equals uninterrupted training.
 *
 * <p>Every backend passes the conformance suite in {@code sae-core}'s test-jar
 * ({@code io.github.sae4j.core.backend.BackendConformanceSuite}) against the pure-Java backend.
 */
public interface TensorOps extends TransformerOps {

    // ---------------------------------------------------------------- data movement

    /** Sets every element of an F32 or I32 tensor to {@code value}. */
    void fill(Tensor t, float value);

    /** Copies {@code src} into {@code dst} (same size; F32 and BF16 convert into each other). */
    void copy(Tensor src, Tensor dst);

    // ---------------------------------------------------------------- dense linear algebra

    /**
     * {@code c = alpha * op(a) * op(b) + beta * c}, where {@code op(x)} is {@code x} or its transpose.
     * With {@code beta == 0}, {@code c}'s old contents are ignored (NaN does not propagate).
     */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    // ---------------------------------------------------------------- elementwise

    /**
     * {@code y = alpha * x + beta * y}, elementwise over tensors of the same size. {@code beta == 0} ignores y's
     * contents. {@code x} may be {@code y} (scaling in place).
     */
    void axpby(float alpha, Tensor x, float beta, Tensor y);

    /** {@code m[r, :] += alpha * v} for every row of the {@code [rows, cols]} matrix m and the {@code [cols]} vector v. */
    void addRowVector(Tensor m, float alpha, Tensor v);

    /** {@code out = in > threshold ? in : 0}, elementwise; {@code out} may be {@code in}. ReLU is threshold 0. */
    void relu(Tensor in, float threshold, Tensor out);

    /** {@code out = activation > 0 ? grad : 0}, elementwise; {@code out} may be {@code grad}. */
    void reluBackward(Tensor activation, Tensor grad, Tensor out);

    // ---------------------------------------------------------------- reductions

    /** {@code out[c] = beta * out[c] + alpha * sum_r m[r, c]}. {@code beta == 0} ignores out's contents. */
    void columnSums(Tensor m, float alpha, float beta, Tensor out);

    /** {@code out[c] += #{r : m[r, c] > threshold}}: per-column firing counts of a dense code. */
    void columnCountAbove(Tensor m, float threshold, Tensor out);

    /** {@code out[r] = ||m[r, :]||_2}. */
    void rowNorms(Tensor m, Tensor out);

    /** {@code sum x^2} over all elements, accumulated in double. */
    double sumSquares(Tensor x);

    /** {@code sum (a - b)^2} over all elements of two tensors of the same size, accumulated in double. */
    double sumSquaredDifference(Tensor a, Tensor b);

    /** {@code sum a * b} over all elements, accumulated in double. */
    double dot(Tensor a, Tensor b);

    /** The number of elements greater than {@code threshold}. */
    long countAbove(Tensor x, float threshold);

    /**
     * Per-row statistics of a reconstruction: {@code out[r] = [||x_r||^2, ||xhat_r||^2, x_r . xhat_r]}
     * for {@code out} of shape {@code [rows, 3]}. Used for the L2 ratio and cosine metrics.
     */
    void rowNormsAndDots(Tensor x, Tensor xHat, Tensor out);

    // ---------------------------------------------------------------- top-k

    /**
     * The k largest entries of each row of {@code m}: {@code values[r, :]} in descending order and their
     * column {@code indices[r, :]}; ties go to the lower column index. NaN compares below everything.
     */
    void topKRows(Tensor m, int k, Tensor values, Tensor indices);

    /**
     * Like {@link #topKRows} but only over the columns c with {@code columnMask[c] != 0}. Slots beyond the
     * number of allowed columns get value 0 and index -1.
     */
    void topKRowsMasked(Tensor m, Tensor columnMask, int k, Tensor values, Tensor indices);

    // ---------------------------------------------------------------- sparse products

    /**
     * Decodes a sparse code: {@code out[r, :] = bias + sum_j values[r, j] * weights[indices[r, j], :]}
     * with {@code weights} of shape {@code [n, d]} and {@code out} of shape {@code [rows, d]};
     * {@code bias} ({@code [d]}) may be null.
     */
    void sparseDecode(Tensor values, Tensor indices, Tensor weights, Tensor bias, Tensor out);

    /** {@code out[r, j] = dense[r, :] . weights[indices[r, j], :]} (0 for empty slots). */
    void sparseRowDots(Tensor indices, Tensor dense, Tensor weights, Tensor out);

    /**
     * Accumulates a sparse outer product into the rows of a gradient:
     * {@code grad[indices[r, j], :] += alpha * values[r, j] * dense[r, :]}. Rows of {@code grad} that no index
     * names are not touched.
     */
    void sparseAccumulateRows(Tensor values, Tensor indices, Tensor dense, float alpha, Tensor grad);

    /** {@code out[indices[r, j]] += alpha * values[r, j]}. */
    void sparseColumnSums(Tensor values, Tensor indices, float alpha, Tensor out);

    /** {@code out[indices[r, j]] += 1} for every slot with {@code values[r, j] > 0}: per-latent firing counts. */
    void sparseColumnCountPositive(Tensor values, Tensor indices, Tensor out);

    // ---------------------------------------------------------------- optimizer and constraints

    /** One AdamW update of {@code param} from {@code grad}, updating the moments {@code m} and {@code v} in place. */
    void adamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step);

    /**
     * Removes from each gradient row its component along the matching weight row:
     * {@code grad[i] -= (grad[i] . w[i] / ||w[i]||^2) w[i]} (rows with {@code w[i] = 0} are left alone).
     * This keeps unit-norm rows on the sphere to first order.
     */
    void projectOutRowComponents(Tensor weights, Tensor grad);

    /** Scales each nonzero row of {@code weights} to unit L2 norm. */
    void normalizeRows(Tensor weights);

    /** {@code dst[i, :] += alpha * scales[i] * src[i, :]}. */
    void addScaledRows(Tensor src, Tensor scales, float alpha, Tensor dst);

    /**
     * Counts the non-finite (NaN or infinite) elements of an F32 tensor; used to stop training with a clear
     * message instead of writing a poisoned checkpoint.
     */
    long countNonFinite(Tensor x);
}
