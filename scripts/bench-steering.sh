#!/usr/bin/env bash
# Steering benchmark: generation tokens/s on the embedded model unsteered and with each steering mode (add, bias,
# clamp), rounds interleaved after a warm-up, medians and each mode's cost in one run. Arguments go to
# io.github.sae4j.core.bench.SteeringBenchmark (--model DIR, --sae DIR, --prompts N, --new-tokens N, --rounds N,
# --warmup N, --feature L, --strength S, --threads N, --json FILE).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
(cd "$root" && ./mvnw -q -DskipTests package) >&2
cd "$root"
exec "$java_home/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.nio=ALL-UNNAMED -Xmx4g ${SAE4J_JAVA_OPTS:-} \
  -cp "sae-cli/target/sae4j-cli.jar:sae-cli/target/lib/*" io.github.sae4j.core.bench.SteeringBenchmark "$@"
