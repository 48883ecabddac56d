// Elementwise kernels of the cuda backend, each the twin of a loop in the java backend (JavaOps).
// NVRTC compiles them with --fmad=false: a * b + c is a multiply then an add, as in Java; fmaf() stands where the
// java kernels call Math.fma or FloatVector.fma. No headers: NVRTC needs none for these.

typedef long long i64;
typedef unsigned int u32;
typedef unsigned short u16;

#define GRID_STRIDE(i, n) for (i64 i = (i64) blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                               i += (i64) blockDim.x * gridDim.x)

// BFloat16.toFloat: exact.
extern "C" __global__ void bf16_to_f32(const u16* src, float* dst, i64 n) {
    GRID_STRIDE(i, n) {
        dst[i] = __uint_as_float(((u32) src[i]) << 16);
    }
}

// BFloat16.fromFloat: round to nearest even; NaN stays a (quiet) NaN.
extern "C" __global__ void f32_to_bf16(const float* src, u16* dst, i64 n) {
    GRID_STRIDE(i, n) {
        u32 bits = __float_as_uint(src[i]);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
            dst[i] = (u16) ((bits >> 16) | 0x0040u);
        } else {
            dst[i] = (u16) ((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
        }
    }
}

// y = alpha x + beta y; beta == 0 ignores y (NaN does not propagate).
extern "C" __global__ void axpby(float alpha, const float* x, float beta, float* y, i64 n) {
    GRID_STRIDE(i, n) {
        if (beta == 0.0f) {
            y[i] = alpha * x[i];
        } else {
            y[i] = alpha * x[i] + beta * y[i];
        }
    }
}

// m[r, c] += alpha v[c]
extern "C" __global__ void add_row_vector(float* m, float alpha, const float* v, int cols, i64 n) {
    GRID_STRIDE(i, n) {
        m[i] = alpha * v[i % cols] + m[i];
    }
}

// out = in > threshold ? in : 0 (NaN gives 0)
extern "C" __global__ void relu(const float* in, float threshold, float* out, i64 n) {
    GRID_STRIDE(i, n) {
        float v = in[i];
        out[i] = v > threshold ? v : 0.0f;
    }
}

// out = activation > 0 ? grad : 0
extern "C" __global__ void relu_backward(const float* activation, const float* grad, float* out, i64 n) {
    GRID_STRIDE(i, n) {
        out[i] = activation[i] > 0.0f ? grad[i] : 0.0f;
    }
}

// One AdamW update, operation for operation as JavaOps.adamW (PyTorch's order); the scalars come from the host.
extern "C" __global__ void adamw(float* p, const float* g, float* m, float* v, float decay, float oneMinusB1,
                                 float b2, float oneMinusB2, float stepSize, float bc2Sqrt, float eps, i64 n) {
    GRID_STRIDE(i, n) {
        float gi = g[i];
        float mm = m[i] + (gi - m[i]) * oneMinusB1;
        float vv = v[i] * b2 + gi * gi * oneMinusB2;
        float denom = sqrtf(vv) / bc2Sqrt + eps;
        m[i] = mm;
        v[i] = vv;
        p[i] = p[i] * decay - (mm / denom) * stepSize;
    }
}

// dst[r, :] += (alpha scales[r]) src[r, :], skipping rows whose factor is 0; one thread per element.
extern "C" __global__ void add_scaled_rows(const float* src, const float* scales, float alpha, float* dst, int cols,
                                           i64 n) {
    GRID_STRIDE(i, n) {
        float s = alpha * scales[i / cols];
        if (s != 0.0f) {
            dst[i] = fmaf(src[i], s, dst[i]);
        }
    }
}
