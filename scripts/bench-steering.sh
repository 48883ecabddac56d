#!/usr/bin/env bash
# Steering benchmark: generation tokens/s on the embedded model unsteered and with each steering mode (add, bias,
# clamp), rounds interleaved after a warm-up, medians and each mode's cost in one run. Arguments go to
# io.github.sae4j.core.bench.SteeringBenchmark (--model DIR, --sae DIR, --prompts N, --new-tokens N, --rounds N,
# --warmup N, --feature L, --strength S, --threads N, --json FILE).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-bench.sh" 4g io.github.sae4j.core.bench.SteeringBenchmark "$@"
