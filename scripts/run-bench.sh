#!/usr/bin/env bash
# Builds the sae4j jars and runs one benchmark's main class with the JVM flags every sae4j process needs:
#   scripts/run-bench.sh HEAP MAIN_CLASS [ARGS...]      (HEAP as for -Xmx, e.g. 4g)
# The bench-*.sh scripts call it; SAE4J_JAVA_OPTS adds JVM options.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
heap="$1"
main="$2"
shift 2
# shellcheck source=jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
(cd "$root" && ./mvnw -q -DskipTests package) >&2
cd "$root"
exec "$java_home/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.nio=ALL-UNNAMED "-Xmx$heap" ${SAE4J_JAVA_OPTS:-} \
  -cp "sae-cli/target/sae4j-cli.jar:sae-cli/target/lib/*" "$main" "$@"
