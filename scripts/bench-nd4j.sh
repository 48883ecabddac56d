#!/usr/bin/env bash
# nd4j backend benchmark: one TopK training step on nd4j and on java, and ND4J's own encoder GEMM, in one run.
# Arguments go to io.github.sae4j.nd4j.bench.Nd4jBenchmark (--threads N, --iterations N).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-bench.sh" 8g io.github.sae4j.nd4j.bench.Nd4jBenchmark "$@"
