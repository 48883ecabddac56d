// Per-row top-k, the twin of the java backend's RowTopK: larger value first, ties to the lower column, NaN never
// enters, masked-out columns never enter, unfilled slots get value 0 and index -1. The selected set and its order
// are fully determined by that total order, so the result equals the oracle's bit for bit.
//
// Signed zeros: RowTopK compares values as floats for k <= 48 (its heap: -0 == +0, so the lower column wins) and as
// raw-bit keys for larger k (+0 ranks above -0). canonicalZero = (k <= 48) reproduces both.
//
// One block of 256 threads per row:
//   1. count the valid entries; take = min(k, valid);
//   2. radix-select (8 bits at a time) the take-th largest order key T;
//   3. gather, in column order (block prefix scans), every entry with key > T and the first `take - #greater`
//      entries with key == T into the row's scratch slots;
//   4. place each candidate at its rank: the key == T ones are already in column order after all the greater ones,
//      so only the greater ones need ranking among themselves.

typedef long long i64;
typedef unsigned int u32;

#define THREADS 256

// An unsigned key whose order is the float order (NaN excluded).
__device__ __forceinline__ u32 order_key(float v, int canonicalZero) {
    u32 bits = __float_as_uint(v);
    if (canonicalZero && (bits & 0x7FFFFFFFu) == 0u) {
        bits = 0u;
    }
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

__device__ __forceinline__ int is_valid(float v, const float* mask, int c) {
    return v == v && (mask == 0 || mask[c] != 0.0f);
}

// Inclusive prefix sum over the block's 256 threads; *total gets the block's sum.
__device__ int block_inclusive_scan(int v, int* shared, int* total) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int offset = 1; offset < THREADS; offset <<= 1) {
        int add = threadIdx.x >= offset ? shared[threadIdx.x - offset] : 0;
        __syncthreads();
        shared[threadIdx.x] += add;
        __syncthreads();
    }
    int inclusive = shared[threadIdx.x];
    *total = shared[THREADS - 1];
    __syncthreads();
    return inclusive;
}

// mask may be null (0). scratchKeys and scratchCols hold rows * k entries.
extern "C" __global__ void topk_rows(const float* m, int cols, const float* mask, int k, int canonicalZero,
                                     float* outValues, int* outIndices, u32* scratchKeys, int* scratchCols) {
    __shared__ int hist[256];
    __shared__ int scan[THREADS];
    __shared__ int validCount;
    __shared__ u32 sharedPrefix;
    __shared__ int sharedRemaining;
    const int tid = threadIdx.x;
    const i64 r = blockIdx.x;
    const float* row = m + r * cols;
    float* values = outValues + r * k;
    int* indices = outIndices + r * k;
    u32* candKeys = scratchKeys + r * k;
    int* candCols = scratchCols + r * k;

    // 1. valid entries
    if (tid == 0) {
        validCount = 0;
    }
    __syncthreads();
    int local = 0;
    for (int c = tid; c < cols; c += THREADS) {
        local += is_valid(row[c], mask, c);
    }
    atomicAdd(&validCount, local);
    __syncthreads();
    const int take = min(k, validCount);
    for (int j = take + tid; j < k; j += THREADS) {
        values[j] = 0.0f;
        indices[j] = -1;
    }
    if (take == 0) {
        return;
    }

    // 2. radix select: the take-th largest key, 8 bits at a time from the top
    u32 prefix = 0u;
    u32 prefixMask = 0u;
    int remaining = take;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int i = tid; i < 256; i += THREADS) {
            hist[i] = 0;
        }
        __syncthreads();
        for (int c = tid; c < cols; c += THREADS) {
            float v = row[c];
            if (is_valid(v, mask, c)) {
                u32 key = order_key(v, canonicalZero);
                if ((key & prefixMask) == prefix) {
                    atomicAdd(&hist[(key >> shift) & 255u], 1);
                }
            }
        }
        __syncthreads();
        if (tid == 0) {
            int above = 0;
            int digit = 255;
            for (; digit > 0; digit--) {
                if (above + hist[digit] >= remaining) {
                    break;
                }
                above += hist[digit];
            }
            sharedPrefix = prefix | ((u32) digit << shift);
            sharedRemaining = remaining - above;
        }
        __syncthreads();
        prefix = sharedPrefix;
        remaining = sharedRemaining;
        prefixMask |= 255u << shift;
    }
    const u32 threshold = prefix;
    const int needEqual = remaining;
    const int greater = take - needEqual;

    // 3. gather in column order: greater ones to [0, greater), the first needEqual equal ones to [greater, take)
    int greaterSeen = 0;
    int equalSeen = 0;
    for (int base = 0; base < cols; base += THREADS) {
        if (greaterSeen >= greater && equalSeen >= needEqual) {
            break;
        }
        int c = base + tid;
        int isGreater = 0;
        int isEqual = 0;
        u32 key = 0u;
        if (c < cols) {
            float v = row[c];
            if (is_valid(v, mask, c)) {
                key = order_key(v, canonicalZero);
                isGreater = key > threshold;
                isEqual = key == threshold;
            }
        }
        if (__syncthreads_or(isGreater | isEqual) == 0) {
            continue;
        }
        int packed = isGreater | (isEqual << 16);
        int total;
        int exclusive = block_inclusive_scan(packed, scan, &total) - packed;
        if (isGreater) {
            int p = greaterSeen + (exclusive & 0xFFFF);
            candKeys[p] = key;
            candCols[p] = c;
        }
        if (isEqual) {
            int q = equalSeen + (exclusive >> 16);
            if (q < needEqual) {
                candKeys[greater + q] = key;
                candCols[greater + q] = c;
            }
        }
        greaterSeen += total & 0xFFFF;
        equalSeen += total >> 16;
    }
    __syncthreads();

    // 4. place by rank
    for (int i = tid; i < take; i += THREADS) {
        int col = candCols[i];
        int pos = i;
        if (i < greater) {
            u32 key = candKeys[i];
            pos = 0;
            for (int j = 0; j < greater; j++) {
                u32 other = candKeys[j];
                pos += other > key || (other == key && candCols[j] < col);
            }
        }
        values[pos] = row[col];
        indices[pos] = col;
    }
}
