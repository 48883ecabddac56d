#!/usr/bin/env bash
# Data-parallel scaling on one CPU: the trainer's TopK step on one java device with all the threads against N logical
# devices that split them, interleaved rounds, medians. Writes docs/measurements/bench-data-parallel.json unless
# --json is given. Arguments go to io.github.sae4j.core.bench.DataParallelBenchmark (--threads T, --devices N,
# --batch-size B, --d-in D, --latents L, -k K, --iterations I, --warmup W, --json FILE).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
args=("$@")
if [[ " $* " != *" --json "* ]]; then
  args+=(--json "$root/docs/measurements/bench-data-parallel.json")
fi
exec "$root/scripts/run-bench.sh" 6g io.github.sae4j.core.bench.DataParallelBenchmark "${args[@]}"
