#!/usr/bin/env bash
# Prepares the training data of Folio's demo model, on a Debian 12 machine without a GPU:
#   1. fetches the public-domain texts as Debian packages (bible-kjv + bible-kjv-text: the King
#      James Bible; jargon-text: the Jargon File 4.4.7) and extracts plain text from them;
#   2. trains a sentencepiece BPE tokenizer on it (spm_train) and writes the tokenizer folder in
#      the form engine/tokenizer.cpp loads;
#   3. checks that the engine loads it and encodes every plain line exactly like spm_encode;
#   4. builds plain-text documents and ChatML samples and tokenizes them with the engine's own
#      tokenizer (folio-cli tokenize) into little-endian uint16 files.
# Output: $DEMO_DATA (default .demo-data/, git-ignored through .git/info/exclude), which the
# GPU run (tools/demo-model/run_on_gpu.sh) needs: name it in the device tool's `carry`.
#   tools/demo-model/prepare.sh
# Environment: DEMO_DATA, DEMO_WORK (scratch, default build-demo/demo-prep), FOLIO_BUILD (default
# build-demo; its app/cli/folio-cli is built if missing), DEMO_VOCAB (4096), DEMO_SEED (1234),
# DEMO_CHAT_SCALE (0.7: how many chat samples, relative to corpus.py's counts), PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=tools/demo-model
DATA=${DEMO_DATA:-.demo-data}
WORK=${DEMO_WORK:-build-demo/demo-prep}
BUILD=${FOLIO_BUILD:-build-demo}
CLI=${FOLIO_CLI:-$BUILD/app/cli/folio-cli}
VOCAB=${DEMO_VOCAB:-4096}
SEED=${DEMO_SEED:-1234}
PY=${PYTHON:-python3}
step() { echo "== $*" >&2; }
die() { echo "prepare.sh: $*" >&2; exit 1; }

for tool in spm_train spm_encode apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || die "$tool is missing (spm_*: apt-get install sentencepiece)"
done
if [ "$DATA" = .demo-data ] && [ -d .git ] && ! grep -qx '/.demo-data/' .git/info/exclude; then
    echo '/.demo-data/' >> .git/info/exclude
fi
rm -rf "$WORK" "$DATA"
mkdir -p "$WORK/debs" "$WORK/root" "$DATA/tokenizer" "$DATA/sources" "$DATA/debs"

step "1. sources (Debian packages)"
(cd "$WORK/debs" && apt-get download bible-kjv bible-kjv-text jargon-text) >/dev/null 2>&1 ||
    die "apt-get download bible-kjv bible-kjv-text jargon-text failed (run apt-get update?)"
: > "$WORK/sources.tsv"
for deb in "$WORK"/debs/*.deb; do
    dpkg -x "$deb" "$WORK/root"
    pkg=$(dpkg-deb -f "$deb" Package)
    printf '%s\t%s\t%s\n' "$pkg" "$(dpkg-deb -f "$deb" Version)" \
        "$(sha256sum "$deb" | cut -d' ' -f1)" >> "$WORK/sources.tsv"
    cp "$WORK/root/usr/share/doc/$pkg/copyright" "$DATA/sources/$pkg.copyright"
done
"$WORK/root/usr/bin/bible" -p "$WORK/root/usr/lib" -l100000 "Gen1:1-Rev22:21" > "$WORK/kjv.txt"
zcat "$WORK/root/usr/share/doc/jargon-text/jargon.txt.gz" > "$WORK/jargon.txt"
"$PY" - "$WORK/sources.tsv" "$WORK/sources.json" <<'EOF'
import json, sys
licenses = {
    "bible-kjv-text": "King James Version text (1611): public domain (copyright expired; see "
                      "bible-kjv-text.copyright). Used: the whole text.",
    "bible-kjv": "The `bible` program (GPL-2+) only extracts the text; none of it is in the data.",
    "jargon-text": "The Jargon File 4.4.7 (Eric S. Raymond, ed.): public domain, 'to be freely "
                   "used, shared, and modified' (see jargon-text.copyright). Used: chapters, "
                   "lexicon entries and appendices.",
}
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
json.dump([{"package": p, "version": v, "deb_sha256": h, "license": licenses[p]}
           for p, v, h in rows], open(sys.argv[2], "w"), indent=1)
EOF
cp "$WORK/sources.json" "$DATA/sources/sources.json"

step "2. corpus and tokenizer"
"$PY" $here/corpus.py corpus --kjv "$WORK/kjv.txt" --jargon "$WORK/jargon.txt" --work "$WORK"
mkdir -p "$WORK/spm"
# Identity normalisation and kept whitespace: the engine (like the reference fast tokenizer)
# applies no normaliser; it only writes spaces as U+2581 and puts one in front of each segment,
# which is sentencepiece's dummy prefix. Ids 0/1/2 = <unk>/<s>/</s> as in MiniCPM4.
spm_train --input="$WORK/spm_input.txt" --model_prefix="$WORK/spm/tokenizer" \
    --model_type=bpe --vocab_size="$VOCAB" --character_coverage=0.9999 --byte_fallback=true \
    --normalization_rule_name=identity --remove_extra_whitespaces=false \
    --add_dummy_prefix=true --split_digits=true --max_sentence_length=16384 \
    --user_defined_symbols='<|im_start|>,<|im_end|>,<think>,</think>' \
    --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --num_threads="$(nproc)" \
    --minloglevel=1 > "$WORK/spm_train.log" 2>&1 || { tail -20 "$WORK/spm_train.log"; exit 1; }
cp "$WORK/spm/tokenizer.model" "$DATA/tokenizer/tokenizer.model"
"$PY" $here/corpus.py tokfiles --vocab "$WORK/spm/tokenizer.vocab" --out "$DATA/tokenizer"

step "3. engine tokenizer checks"
if [ ! -x "$CLI" ]; then
    cmake -S . -B "$BUILD" -G Ninja -DFOLIO_CUDA=OFF -DFOLIO_GUI=OFF -DFOLIO_TESTS=OFF \
        > "$WORK/cmake.log" 2>&1 || { tail -30 "$WORK/cmake.log"; exit 1; }
    cmake --build "$BUILD" --target folio-cli >> "$WORK/cmake.log" 2>&1 ||
        { tail -30 "$WORK/cmake.log"; exit 1; }
fi
token_id() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" \
    "$DATA/tokenizer/added_tokens.json" "$1"; }
im_start=$(token_id '<|im_start|>')
im_end=$(token_id '<|im_end|>')
got=$("$CLI" tokenize --model "$DATA/tokenizer" --text $'<|im_start|>user\nHi<|im_end|>')
case "$got" in
    "1 $im_start "*" $im_end") ;;
    *) die "the engine did not split the ChatML tokens: $got" ;;
esac
"$PY" $here/corpus.py paritylines --input "$WORK/spm_input.txt" --lines "$WORK/parity_lines.txt" \
    --joined "$WORK/parity_joined.txt"
spm_encode --model="$DATA/tokenizer/tokenizer.model" --output_format=id \
    < "$WORK/parity_lines.txt" > "$WORK/parity_spm.txt"
"$CLI" tokenize --model "$DATA/tokenizer" --no-bos --file "$WORK/parity_joined.txt" \
    > "$WORK/parity_engine.txt"
"$PY" $here/corpus.py paritycheck --tokenizer "$DATA/tokenizer" --lines "$WORK/parity_lines.txt" \
    --spm-ids "$WORK/parity_spm.txt" --engine-ids "$WORK/parity_engine.txt"

step "4. documents, chat samples, token ids"
"$PY" $here/corpus.py stream --work "$WORK" --seed "$SEED" --scale "${DEMO_CHAT_SCALE:-0.7}"
for split in train val; do
    "$CLI" tokenize --model "$DATA/tokenizer" --no-bos --file "$WORK/stream_$split.txt" \
        > "$WORK/ids_$split.txt"
done
"$PY" $here/corpus.py pack --work "$WORK" --data "$DATA" --tokenizer "$DATA/tokenizer" \
    --vocab "$WORK/spm/tokenizer.vocab" --seed "$SEED"
cp "$WORK/examples.txt" "$DATA/sources/examples.txt"

step "5. build dependencies for a GPU machine that lacks them (used only as a fallback)"
(cd "$DATA/debs" && apt-get download nlohmann-json3-dev libsentencepiece-dev libsentencepiece0 \
    pkgconf pkgconf-bin libpkgconf3) >/dev/null 2>&1 ||
    echo "prepare.sh: warning: could not download the fallback build packages" >&2

du -sh "$DATA"
ls -l "$DATA" "$DATA/tokenizer"
echo "prepare.sh: done; carry $DATA to the GPU machine and run tools/demo-model/run_on_gpu.sh"
