#!/usr/bin/env bash
# Compares parquet-java (data-openwebtext's reader) with Apache Arrow's dataset module on one generated
# OpenWebText-style Parquet file.   tools/parquet-bench/run.sh [TEXT_MB=200] [REPEATS=3]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../scripts/jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && ./mvnw -q -pl sae-api,data-openwebtext compile dependency:build-classpath \
  -Dmdep.outputFile="$work/owt.cp") >&2
"$root/mvnw" -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/arrow.cp" >&2
cp="$root/sae-api/target/classes:$root/data-openwebtext/target/classes:$(cat "$work/owt.cp"):$(cat "$work/arrow.cp")"
"$java_home/bin/javac" -nowarn -d "$work/classes" -cp "$cp" "$here/ParquetReadBenchmark.java"
"$java_home/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow -cp "$work/classes:$cp" ParquetReadBenchmark "$work" \
  "$root/data/demo-corpus" "${1:-200}" "${2:-3}"
