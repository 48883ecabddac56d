#!/usr/bin/env bash
# Llama 3 forward benchmark (model-llama3): tiny-model prefill vs the PyTorch reference, prefill of a random
# Llama 3.2-1B-shaped model vs the GEMM rate, decode vs the memory-bandwidth bound. Arguments go to
# io.github.sae4j.llama3.bench.Llama3Benchmark (--threads N, --sentences-1b N, --reps N, --no-torch, --json FILE).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
(cd "$root" && ./mvnw -q -DskipTests package) >&2
cd "$root"
exec "$java_home/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow -Xmx8g ${SAE4J_JAVA_OPTS:-} \
  -cp "sae-cli/target/sae4j-cli.jar:sae-cli/target/lib/*" io.github.sae4j.llama3.bench.Llama3Benchmark --root "$root" "$@"
