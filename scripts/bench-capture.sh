#!/usr/bin/env bash
# Capture benchmark: capture tokens/s (async shard writer) against the model forward alone, and shard reading against
# a raw read of the same files, in one run. Arguments go to io.github.sae4j.core.bench.CaptureBenchmark
# (--model DIR, --sentences PATH, --hook NAME, --max-sentences N, --rounds N, --threads N).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-bench.sh" 4g io.github.sae4j.core.bench.CaptureBenchmark "$@"
