// Reductions of the cuda backend. Every sum has a fixed order, so results are bit-identical from call to call:
// column sums add rows in row order (one thread per column, as the java backend's column blocks do); whole-tensor
// sums run on a fixed grid of REDUCE_BLOCKS blocks of 256 threads whose per-block partials (in double) the host adds
// in block order; row sums are a fixed tree over 256 threads, in double. Blocks are always 256 threads.

typedef long long i64;
typedef unsigned int u32;

#define THREADS 256

// The sum of v over the block's 256 threads: a fixed pairwise tree.
__device__ double block_sum(double v, double* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            shared[threadIdx.x] += shared[threadIdx.x + s];
        }
        __syncthreads();
    }
    double total = shared[0];
    __syncthreads();
    return total;
}

// out[c] = beta out[c] + alpha sum_r m[r, c]; beta == 0 ignores out. The float sum runs in row order, as in Java.
extern "C" __global__ void column_sums(const float* m, int rows, int cols, float alpha, float beta, float* out) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) {
        return;
    }
    float acc = 0.0f;
    for (int r = 0; r < rows; r++) {
        acc += m[(i64) r * cols + c];
    }
    float sum = alpha * acc;
    out[c] = beta == 0.0f ? sum : beta * out[c] + sum;
}

// out[c] += #{r : m[r, c] > threshold}
extern "C" __global__ void column_count_above(const float* m, int rows, int cols, float threshold, float* out) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) {
        return;
    }
    float acc = 0.0f;
    for (int r = 0; r < rows; r++) {
        if (m[(i64) r * cols + c] > threshold) {
            acc += 1.0f;
        }
    }
    out[c] += acc;
}

#define OP_SUM_SQUARES 0
#define OP_SUM_SQUARED_DIFFERENCE 1
#define OP_DOT 2
#define OP_COUNT_ABOVE 3
#define OP_COUNT_NON_FINITE 4

// partials[blockIdx.x] = this block's share of the reduction `op` over n elements (b is unused by one-input ops).
extern "C" __global__ void reduce_partials(int op, const float* a, const float* b, float threshold, i64 n,
                                           double* partials) {
    __shared__ double shared[THREADS];
    double acc = 0.0;
    for (i64 i = (i64) blockIdx.x * THREADS + threadIdx.x; i < n; i += (i64) THREADS * gridDim.x) {
        float x = a[i];
        if (op == OP_SUM_SQUARES) {
            acc += (double) x * x;
        } else if (op == OP_SUM_SQUARED_DIFFERENCE) {
            double d = (double) x - b[i];
            acc += d * d;
        } else if (op == OP_DOT) {
            acc += (double) x * b[i];
        } else if (op == OP_COUNT_ABOVE) {
            acc += x > threshold ? 1.0 : 0.0;
        } else {
            acc += (__float_as_uint(x) & 0x7F800000u) == 0x7F800000u ? 1.0 : 0.0;
        }
    }
    double total = block_sum(acc, shared);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = total;
    }
}

// out[r] = ||m[r, :]||, one block per row.
extern "C" __global__ void row_norms(const float* m, int cols, float* out) {
    __shared__ double shared[THREADS];
    const float* row = m + (i64) blockIdx.x * cols;
    double acc = 0.0;
    for (int c = threadIdx.x; c < cols; c += THREADS) {
        double v = row[c];
        acc += v * v;
    }
    double total = block_sum(acc, shared);
    if (threadIdx.x == 0) {
        out[blockIdx.x] = (float) sqrt(total);
    }
}

// out[r] = [x.x, h.h, x.h] of row r, one block per row.
extern "C" __global__ void row_norms_and_dots(const float* x, const float* h, int cols, float* out) {
    __shared__ double shared[THREADS];
    const float* xr = x + (i64) blockIdx.x * cols;
    const float* hr = h + (i64) blockIdx.x * cols;
    double xx = 0.0;
    double hh = 0.0;
    double xh = 0.0;
    for (int c = threadIdx.x; c < cols; c += THREADS) {
        double a = xr[c];
        double b = hr[c];
        xx += a * a;
        hh += b * b;
        xh += a * b;
    }
    xx = block_sum(xx, shared);
    hh = block_sum(hh, shared);
    xh = block_sum(xh, shared);
    if (threadIdx.x == 0) {
        out[3 * (i64) blockIdx.x] = (float) xx;
        out[3 * (i64) blockIdx.x + 1] = (float) hh;
        out[3 * (i64) blockIdx.x + 2] = (float) xh;
    }
}

// g[r] -= (g[r].w[r] / ||w[r]||^2) w[r]; rows with w[r] = 0 are left alone. One block per row.
extern "C" __global__ void project_out_row_components(const float* w, float* g, int cols) {
    __shared__ double shared[THREADS];
    const float* wr = w + (i64) blockIdx.x * cols;
    float* gr = g + (i64) blockIdx.x * cols;
    double ww = 0.0;
    double gw = 0.0;
    for (int c = threadIdx.x; c < cols; c += THREADS) {
        double a = wr[c];
        ww += a * a;
        gw += (double) gr[c] * a;
    }
    ww = block_sum(ww, shared);
    gw = block_sum(gw, shared);
    if (ww > 0.0) {
        float s = (float) (-gw / ww);
        for (int c = threadIdx.x; c < cols; c += THREADS) {
            gr[c] = fmaf(wr[c], s, gr[c]);
        }
    }
}

// Scales each nonzero row of w to unit norm. One block per row.
extern "C" __global__ void normalize_rows(float* w, int cols) {
    __shared__ double shared[THREADS];
    float* wr = w + (i64) blockIdx.x * cols;
    double ww = 0.0;
    for (int c = threadIdx.x; c < cols; c += THREADS) {
        double a = wr[c];
        ww += a * a;
    }
    double norm = sqrt(block_sum(ww, shared));
    if (norm > 0.0) {
        float scale = (float) (1.0 / norm);
        for (int c = threadIdx.x; c < cols; c += THREADS) {
            wr[c] = wr[c] * scale;
        }
    }
}
