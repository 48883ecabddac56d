// Sparse products over sparse codes ([rows, k] values and indices; index -1 is an empty slot), the twins of
// JavaOps' sparse ops. No float atomics: every output element is a fixed sequence of operations, so results are
// bit-identical from call to call (and, for decode and the gradient rows, equal to the java backend's).
//
// Indices outside [-1, n) are skipped and reported through `error` = {op, index, n}; the host checks it when it next
// waits for the device, and throws.
//
// Gradient rows (sparseAccumulateRows) and sparse column sums touch only the latents that occur: the live entries
// are sorted by (latent, entry) with a bitonic sort of 64-bit keys (latent << 32 | entry), so each latent's entries
// are contiguous and in (row, slot) order, the order the java backend adds them in; one block then walks each
// latent's run.

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;

#define THREADS 256
#define DEAD_KEY 0xFFFFFFFFFFFFFFFFull

__device__ __forceinline__ int checked_index(int idx, int n, int op, int* error) {
    if (idx < -1 || idx >= n) {
        if (atomicCAS(&error[0], 0, op) == 0) {
            error[1] = idx;
            error[2] = n;
        }
        return -1;
    }
    return idx;
}

// out[r, c] = bias[c] + sum_j values[r, j] w[indices[r, j], c] over live slots (index >= 0, value != 0), in slot
// order, as fused multiply-adds. Grid: (ceil(d / 256), rows). bias may be null.
extern "C" __global__ void sparse_decode(const float* values, const int* indices, int k, const float* w, int n, int d,
                                         const float* bias, float* out, int* error) {
    int c = blockIdx.x * THREADS + threadIdx.x;
    if (c >= d) {
        return;
    }
    i64 r = blockIdx.y;
    float acc = bias != 0 ? bias[c] : 0.0f;
    for (int j = 0; j < k; j++) {
        int idx = checked_index(indices[r * k + j], n, 1, error);
        float v = values[r * k + j];
        if (idx >= 0 && v != 0.0f) {
            acc = fmaf(w[(i64) idx * d + c], v, acc);
        }
    }
    out[r * d + c] = acc;
}

// out[e] = dense[e / k, :] . w[indices[e], :] (0 for empty slots): one warp per slot, in double, a fixed shuffle tree.
extern "C" __global__ void sparse_row_dots(const int* indices, int k, const float* dense, const float* w, int n, int d,
                                           float* out, i64 entries, int* error) {
    i64 e = ((i64) blockIdx.x * THREADS + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (e >= entries) {
        return;
    }
    int idx = checked_index(indices[e], n, 2, error);
    if (idx < 0) {
        if (lane == 0) {
            out[e] = 0.0f;
        }
        return;
    }
    const float* x = dense + (e / k) * d;
    const float* wr = w + (i64) idx * d;
    double acc = 0.0;
    for (int c = lane; c < d; c += 32) {
        acc += (double) x[c] * wr[c];
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        acc += __shfl_down_sync(0xFFFFFFFFu, acc, offset);
    }
    if (lane == 0) {
        out[e] = (float) acc;
    }
}

// keys[i] = latent << 32 | i for live entries, DEAD_KEY for the others and for the padding up to the power of two.
// skipZero: entries with value 0 are not live (the gradient rows skip them; column sums do not).
extern "C" __global__ void sparse_sort_keys(const float* values, const int* indices, i64 entries, i64 padded, int n,
                                            int skipZero, int op, u64* keys, int* error) {
    for (i64 i = (i64) blockIdx.x * THREADS + threadIdx.x; i < padded; i += (i64) THREADS * gridDim.x) {
        u64 key = DEAD_KEY;
        if (i < entries) {
            int idx = checked_index(indices[i], n, op, error);
            if (idx >= 0 && (!skipZero || values[i] != 0.0f)) {
                key = ((u64) (u32) idx << 32) | (u64) i;
            }
        }
        keys[i] = key;
    }
}

// One compare-exchange stage of a bitonic sort (ascending) of `padded` (a power of two) keys.
extern "C" __global__ void bitonic_step(u64* keys, i64 padded, i64 j, i64 size) {
    for (i64 i = (i64) blockIdx.x * THREADS + threadIdx.x; i < padded; i += (i64) THREADS * gridDim.x) {
        i64 partner = i ^ j;
        if (partner > i) {
            u64 a = keys[i];
            u64 b = keys[partner];
            int ascending = (i & size) == 0;
            if ((a > b) == ascending) {
                keys[i] = b;
                keys[partner] = a;
            }
        }
    }
}

__device__ __forceinline__ int run_start(const u64* keys, i64 p) {
    u64 key = keys[p];
    return key != DEAD_KEY && (p == 0 || (keys[p - 1] >> 32) != (key >> 32));
}

// grad[latent, c] += (alpha values[e]) dense[e / k, c] for each of the latent's entries e in order, as fused
// multiply-adds. Grid: (runs blocks striding over the sorted keys, ceil(d / 256)).
extern "C" __global__ void sparse_accumulate_rows(const u64* keys, i64 padded, const float* values, int k,
                                                  const float* dense, int d, float alpha, float* grad) {
    int c = blockIdx.y * THREADS + threadIdx.x;
    if (c >= d) {
        return;
    }
    for (i64 p = blockIdx.x; p < padded; p += gridDim.x) {
        if (!run_start(keys, p)) {
            continue;
        }
        u64 latent = keys[p] >> 32;
        float* g = grad + (i64) latent * d + c;
        float acc = *g;
        for (i64 q = p; q < padded; q++) {
            u64 key = keys[q];
            if (key == DEAD_KEY || (key >> 32) != latent) {
                break;
            }
            i64 e = (i64) (key & 0xFFFFFFFFull);
            float coef = alpha * values[e];
            acc = fmaf(dense[(e / k) * d + c], coef, acc);
        }
        *g = acc;
    }
}

// out[latent] += alpha values[e] for each of the latent's entries in order.
extern "C" __global__ void sparse_column_sums(const u64* keys, i64 padded, const float* values, float alpha,
                                              float* out) {
    for (i64 p = (i64) blockIdx.x * THREADS + threadIdx.x; p < padded; p += (i64) THREADS * gridDim.x) {
        if (!run_start(keys, p)) {
            continue;
        }
        u64 latent = keys[p] >> 32;
        float s = out[latent];
        for (i64 q = p; q < padded; q++) {
            u64 key = keys[q];
            if (key == DEAD_KEY || (key >> 32) != latent) {
                break;
            }
            s += alpha * values[key & 0xFFFFFFFFull];
        }
        out[latent] = s;
    }
}

// out[indices[e]] += 1 where values[e] > 0. Adding 1.0f is order-independent (every addend is the same), so float
// atomics are deterministic here.
extern "C" __global__ void sparse_column_count_positive(const float* values, const int* indices, i64 entries, int n,
                                                        float* out, int* error) {
    for (i64 e = (i64) blockIdx.x * THREADS + threadIdx.x; e < entries; e += (i64) THREADS * gridDim.x) {
        int idx = checked_index(indices[e], n, 6, error);
        if (idx >= 0 && values[e] > 0.0f) {
            atomicAdd(&out[idx], 1.0f);
        }
    }
}
