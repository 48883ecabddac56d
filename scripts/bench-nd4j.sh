#!/usr/bin/env bash
# nd4j backend benchmark: one TopK training step on nd4j and on java, and ND4J's own encoder GEMM, in one run.
# Arguments go to io.github.sae4j.nd4j.bench.Nd4jBenchmark (--threads N, --iterations N).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
(cd "$root" && ./mvnw -q -DskipTests package) >&2
cd "$root"
exec "$java_home/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.nio=ALL-UNNAMED -Xmx8g ${SAE4J_JAVA_OPTS:-} \
  -cp "sae-cli/target/sae4j-cli.jar:sae-cli/target/lib/*" io.github.sae4j.nd4j.bench.Nd4jBenchmark "$@"
