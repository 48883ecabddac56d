#!/usr/bin/env bash
# Llama 3 forward benchmark (model-llama3): tiny-model prefill vs the PyTorch reference, prefill of a random
# Llama 3.2-1B-shaped model vs the GEMM rate, decode vs the memory-bandwidth bound. Arguments go to
# io.github.sae4j.llama3.bench.Llama3Benchmark (--threads N, --sentences-1b N, --reps N, --no-torch, --json FILE).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/scripts/run-bench.sh" 8g io.github.sae4j.llama3.bench.Llama3Benchmark --root "$root" "$@"
