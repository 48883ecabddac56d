#!/usr/bin/env bash
# Capture benchmark: capture tokens/s (async shard writer) against the model forward alone, and shard reading against
# a raw read of the same files, in one run. Arguments go to io.github.sae4j.core.bench.CaptureBenchmark
# (--model DIR, --sentences PATH, --hook NAME, --max-sentences N, --rounds N, --threads N).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
(cd "$root" && ./mvnw -q -DskipTests package) >&2
cd "$root"
exec "$java_home/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.nio=ALL-UNNAMED -Xmx4g ${SAE4J_JAVA_OPTS:-} \
  -cp "sae-cli/target/sae4j-cli.jar:sae-cli/target/lib/*" io.github.sae4j.core.bench.CaptureBenchmark "$@"
