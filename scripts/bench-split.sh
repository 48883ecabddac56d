#!/usr/bin/env bash
# Sentence splitter evaluation and speed (data-openwebtext): every splitter on the gold set (boundary and span
# precision/recall/F1, held-out rows) and MB/s, in one run. Arguments go to
# io.github.sae4j.openwebtext.bench.SplitterBenchmark (--errors NAME prints the paragraphs NAME gets wrong).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
cd "$root"
./mvnw -q -pl data-openwebtext -am install -DskipTests >&2
./mvnw -q -o -pl data-openwebtext test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt >&2
exec "$java_home/bin/java" -Xmx2g ${SAE4J_JAVA_OPTS:-} \
  -cp "data-openwebtext/target/test-classes:data-openwebtext/target/classes:$(cat data-openwebtext/target/cp.txt)" \
  io.github.sae4j.openwebtext.bench.SplitterBenchmark "$@"
