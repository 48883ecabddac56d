#!/usr/bin/env bash
# Data-parallel scaling on one CPU: the trainer's TopK step on one java device with all the threads against N logical
# devices that split them, interleaved rounds, medians. Writes docs/measurements/bench-data-parallel.json unless
# --json is given. Arguments go to io.github.sae4j.core.bench.DataParallelBenchmark (--threads T, --devices N,
# --batch-size B, --d-in D, --latents L, -k K, --iterations I, --warmup W, --json FILE).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
(cd "$root" && ./mvnw -q -DskipTests package) >&2
cd "$root"
args=("$@")
if [[ " $* " != *" --json "* ]]; then
  args+=(--json "$root/docs/measurements/bench-data-parallel.json")
fi
exec "$java_home/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow -Xmx6g ${SAE4J_JAVA_OPTS:-} \
  -cp "sae-cli/target/sae4j-cli.jar:sae-cli/target/lib/*" io.github.sae4j.core.bench.DataParallelBenchmark "${args[@]}"
