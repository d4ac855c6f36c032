#!/usr/bin/env bash
# Folio's demo model, the GPU part: one command on a GPU machine of the device tool, from the
# repository root, with .demo-data (tools/demo-model/prepare.sh) carried along and $OUT set:
#
#   tools/demo-model/run_on_gpu.sh
#
#   a. builds folio-cli (CPU backend, no Qt) in build-demo, in the background;
#   b. validate.py golden: sala_torch.py against every reference case (float64), then the
#      training path on the device; stops on a failure;
#   c. random models of the demo shape -> reference cases; `folio-cli check-golden` compares the
#      engine with PyTorch on them (below and past the selection threshold); stops on a failure
#      below it;
#   d. trains (train.py, DEMO_TRAIN_SECONDS, default 300, shortened to keep the whole run under
#      DEMO_DEADLINE_S, default 480 s);
#   e. samples with `folio-cli generate` (greedy and sampled, chat, a document question, speed
#      on 2 cores), a reference case from the trained weights checked by the engine, and, when
#      the CUDA build (started during training, DEMO_CUDA=0 skips it) is ready in time, the same
#      checks and samples on the CUDA backend;
#   f. $OUT: demo-model/config.json, demo-model/model.safetensors, loss.csv, samples.md,
#      summary.md, run.log (6 files). The summary is printed last.
# Exit status 0 when every check passed and the model was exported.
set -uo pipefail
cd "$(dirname "$0")/../.."
T0=$(date +%s)
DEADLINE=$((T0 + ${DEMO_DEADLINE_S:-480}))
OUT=${OUT:-build-demo/out}
DATA=${DEMO_DATA:-.demo-data}
B=build-demo
BC=build-demo-cuda
PY=${PYTHON:-python3}
HERE=tools/demo-model
CLI=$B/app/cli/folio-cli
CLI_CUDA=$BC/app/cli/folio-cli
MODEL=$B/demo-model
NPROC=$(nproc)
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$B"
exec > >(tee "$OUT/run.log") 2>&1

ROWS=()
FAILED=0
now() { echo $(( $(date +%s) - T0 )); }
row() { ROWS+=("| $1 | $2 | $(now) s |"); echo "== [$(now) s] $1: $2"; }
fail() { row "$1" "**FAILED** $2"; FAILED=1; }
summary() {
    {
        echo "# Demo model run, $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
        torch=$($PY -c 'import torch; print(torch.__version__)' 2>/dev/null)
        echo "Machine: ${gpu:-no GPU}, $NPROC CPU cores; torch $torch"
        echo
        echo "| step | result | at |"
        echo "|---|---|---|"
        printf '%s\n' "${ROWS[@]}"
    } > "$OUT/summary.md"
    echo
    cat "$OUT/summary.md"
    echo
    if [ $FAILED -eq 0 ]; then echo "total $(now) s; all checks passed"
    else echo "total $(now) s; SOME CHECKS FAILED"; fi
}
finish() { summary; sleep 1; exit "$1"; }
if [ ! -f "$DATA/meta.json" ]; then
    fail data "$DATA/meta.json missing: run prepare.sh, carry $DATA"
    finish 1
fi

# --- a. build folio-cli (configure now, compile in the background) --------------------------
DEP_ARGS=()
use_carried_deps() {
    # Debian 12 packages of nlohmann-json, sentencepiece and pkgconf from prepare.sh, for an
    # image that lacks them.
    [ -d "$DATA/debs" ] || return 1
    local p=/tmp/folio-deps
    rm -rf "$p" && mkdir -p "$p"
    for d in "$DATA"/debs/*.deb; do dpkg -x "$d" "$p" || return 1; done
    sed -i "s#^prefix=/usr\$#prefix=$p/usr#" "$p"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc \
        "$p"/usr/share/pkgconfig/*.pc
    export LD_LIBRARY_PATH="$p/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    export PKG_CONFIG_PATH="$p/usr/lib/x86_64-linux-gnu/pkgconfig:$p/usr/share/pkgconfig"
    DEP_ARGS=(-DCMAKE_PREFIX_PATH="$p/usr")
    command -v pkg-config >/dev/null || DEP_ARGS+=(-DPKG_CONFIG_EXECUTABLE="$p/usr/bin/pkgconf")
}
configure() { # build dir, extra args...
    local dir=$1; shift
    mkdir -p "$dir"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOLIO_GUI=OFF -DFOLIO_TESTS=OFF \
        "$@" "${DEP_ARGS[@]}" > "$dir/configure.log" 2>&1
}
if ! configure $B -DFOLIO_CUDA=OFF; then
    echo "configure failed; trying the carried build dependencies"; tail -5 $B/configure.log
    rm -f $B/CMakeCache.txt
    use_carried_deps && configure $B -DFOLIO_CUDA=OFF ||
        { cat $B/configure.log; fail "a. configure" "see run.log"; finish 1; }
fi
cmake --build $B --target folio-cli --parallel "$NPROC" > $B/build.log 2>&1 &
BUILD_PID=$!

# --- b. PyTorch implementation against the reference cases ------------------------------------
if $PY $HERE/validate.py golden --device auto; then
    row "b. validate.py golden (float64, all 5 cases)" "pass"
else
    fail "b. validate.py golden" "sala_torch.py disagrees with the reference cases"
    wait $BUILD_PID; finish 1
fi
if dc=$($PY $HERE/validate.py device-check --device cuda); then
    echo "$dc"
    row "b. training path on the GPU vs float64" "$(echo "$dc" | tail -1)"
else
    echo "$dc"
    fail "b. device-check" "the training path on the GPU disagrees with float64"
    wait $BUILD_PID; finish 1
fi

# --- c. engine vs PyTorch on the demo shape -------------------------------------------------
$PY $HERE/validate.py demo-case --kind dense --out $B/demo-case-dense ||
    { fail "c. demo-case dense" "could not write the case"; wait $BUILD_PID; finish 1; }
if ! $PY $HERE/validate.py demo-case --kind select --out $B/demo-case-select; then
    rm -rf $B/demo-case-select
    row "c. demo-case select" "no well-separated random case (selection margin); skipped"
fi
if ! wait $BUILD_PID; then
    tail -40 $B/build.log; fail "a. build folio-cli" "see run.log"; finish 1
fi
row "a. build folio-cli (CPU backend)" "ok"
check() { # name, case dir, folio-cli, backend
    local out
    out=$("$3" check-golden "$2" --backend "$4" --threads "$NPROC" 2>&1)
    local status=$?
    echo "$out"
    local last; last=$(echo "$out" | tail -1)
    if [ $status -eq 0 ]; then row "$1" "pass: $last"; else fail "$1" "$last"; fi
    return $status
}
check "c. engine (CPU) vs PyTorch, demo shape, 316 tokens" $B/demo-case-dense "$CLI" cpu ||
    finish 1
[ -f $B/demo-case-select/case.json ] &&
    check "c. engine (CPU) vs PyTorch, demo shape, 1408 tokens (real selection)" \
        $B/demo-case-select "$CLI" cpu

# --- d. train, with the CUDA build in the background -----------------------------------------
CUDA_PID=
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH=/usr/local/cuda/bin:$PATH
fi
if [ "${DEMO_CUDA:-1}" != 0 ] && command -v nvcc >/dev/null; then
    jobs=$((NPROC > 4 ? NPROC - 2 : 2)) # leave the training's Python a core or two
    mkdir -p $BC
    (configure $BC -DFOLIO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${FOLIO_CUDA_ARCHS:-native}" ||
        { echo "configure failed:"; tail -20 $BC/configure.log; exit 1; }
     exec nice -n 10 cmake --build $BC --target folio-cli --parallel $jobs) > $BC/build.log 2>&1 &
    CUDA_PID=$!
fi
budget=${DEMO_TRAIN_SECONDS:-300}
left=$(( DEADLINE - $(date +%s) - 100 ))
[ $left -lt $budget ] && budget=$left
[ $budget -lt 60 ] && budget=60
echo "training budget $budget s"
if $PY $HERE/train.py --data "$DATA" --out $MODEL --csv "$OUT/loss.csv" --time-budget "$budget" \
        ${DEMO_TRAIN_ARGS:-} | tee $B/train.log; then
    row "d. train ($budget s budget)" "$(tail -1 $B/train.log)"
else
    fail "d. train" "see run.log"; finish 1
fi
mkdir -p "$OUT/demo-model"
cp $MODEL/config.json $MODEL/model.safetensors "$OUT/demo-model/"

# --- e. samples and checks of the trained model ----------------------------------------------
S="$OUT/samples.md"
doc_short=$B/doc-short.txt
doc_long=$B/doc-long.txt
sample_doc=resources/samples/ecclesiastes-kjv.txt # Folio's sample document, when present
rm -f $doc_short $doc_long
if [ -f $sample_doc ]; then
    { head -n 40 $sample_doc; printf '\n\nWhich verse mentions the wind?'; } > $doc_short
    { cat $sample_doc; printf '\n\nWhich verse mentions the rivers?'; } > $doc_long
fi
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0,1)
gen() { # title, command...
    local title=$1 shown=() a
    shift
    for a in "$@"; do
        case "$a" in
            */folio-cli) shown+=(folio-cli) ;;
            *[[:space:]?*]*) shown+=("\"$a\"") ;;
            *) shown+=("$a") ;;
        esac
    done
    { echo "### $title"; echo; echo '```'; echo "\$ ${shown[*]}"; "$@" 2>&1; echo '```'; echo; } \
        >> "$S"
}
samples() { # folio-cli, backend
    local cli=$1 be=$2
    local m=(--model $MODEL --backend $be --max-tokens 96)
    local greedy=(--temperature 0) sampled=(--temperature 0.7 --top-p 0.9)
    local love="Quote a verse about love."
    gen "chat, greedy ($be)" "$cli" generate "${m[@]}" --chat "${greedy[@]}" --prompt "$love"
    gen "chat, sampled ($be)" "$cli" generate "${m[@]}" --chat "${sampled[@]}" --seed 1 \
        --prompt "$love"
    gen "chat, greedy ($be)" "$cli" generate "${m[@]}" --chat "${greedy[@]}" \
        --prompt "What does hacker mean?"
    gen "chat, sampled ($be)" "$cli" generate "${m[@]}" --chat "${sampled[@]}" --seed 2 \
        --prompt "What is a kludge?"
    gen "chat, greedy, no thinking ($be)" "$cli" generate "${m[@]}" --chat --no-think \
        "${greedy[@]}" --prompt "Who are you?"
    gen "chat, greedy ($be)" "$cli" generate "${m[@]}" --chat "${greedy[@]}" \
        --prompt "Complete this verse: In the beginning God"
    gen "plain text, sampled ($be)" "$cli" generate "${m[@]}" --temperature 0.8 --seed 3 \
        --prompt "And it came to pass"
    if [ -f $doc_short ]; then
        gen "document question: 40 lines of Ecclesiastes + question, greedy ($be)" \
            "$cli" generate "${m[@]}" --chat "${greedy[@]}" --file $doc_short --stats
    fi
}
{ echo "# Sample outputs of the demo model"; echo; } > "$S"
samples "$CLI" cpu
if [ -f $doc_long ]; then
    gen "the whole Ecclesiastes sample + question (real block selection), 2 threads ${pin[*]}" \
        "${pin[@]}" "$CLI" generate --model $MODEL --backend cpu --threads 2 --max-tokens 64 \
        --chat --temperature 0 --file $doc_long --stats
    speed=$(grep -o 'prompt_tokens=.*' "$S" | tail -1)
else
    speed="no sample document ($sample_doc missing)"
fi
row "e. samples (CPU backend)" "samples.md; 2 threads: $speed"
ids=$("$CLI" tokenize --model $MODEL \
    --text $'<|im_start|>user\nQuote a verse about love.<|im_end|>\n<|im_start|>assistant\n')
if $PY $HERE/validate.py make-case --model $MODEL --prompt-ids "$ids" --decode 24 \
    --out $B/trained-case; then
    check "e. engine (CPU) vs PyTorch, trained weights" $B/trained-case "$CLI" cpu
else
    fail "e. trained case" "could not write it"
fi

if [ -n "$CUDA_PID" ]; then
    wait_left=$((DEADLINE - $(date +%s) - 30))
    while kill -0 $CUDA_PID 2>/dev/null && [ $wait_left -gt 0 ]; do
        sleep 5
        wait_left=$((wait_left - 5))
    done
    if kill -0 $CUDA_PID 2>/dev/null; then
        kill $CUDA_PID 2>/dev/null
        row "CUDA build" "not finished in time; CUDA checks skipped"
    elif wait $CUDA_PID && [ -x $CLI_CUDA ]; then
        check "e. engine (CUDA, bf16 yardstick) vs PyTorch, demo shape" $B/demo-case-dense \
            "$CLI_CUDA" cuda
        [ -f $B/demo-case-select/case.json ] &&
            check "e. engine (CUDA) vs PyTorch, demo shape, real selection" \
                $B/demo-case-select "$CLI_CUDA" cuda
        check "e. engine (CUDA) vs PyTorch, trained weights" $B/trained-case "$CLI_CUDA" cuda
        gen "chat, greedy (cuda)" "$CLI_CUDA" generate --model $MODEL --backend cuda \
            --max-tokens 96 --chat --temperature 0 --prompt "Quote a verse about love."
        [ -f $doc_long ] &&
            gen "the whole Ecclesiastes sample + question, greedy (cuda)" "$CLI_CUDA" generate \
                --model $MODEL --backend cuda --max-tokens 64 --chat --temperature 0 \
                --file $doc_long --stats
        row "e. samples (CUDA backend)" "samples.md"
    else
        tail -30 $BC/build.log
        row "CUDA build" "failed (see run.log); CUDA checks skipped"
    fi
fi

# --- f. results --------------------------------------------------------------------------------
ls -la "$OUT" "$OUT/demo-model"
row "f. \$OUT" "$(cd "$OUT" && find . -type f | sort | tr '\n' ' ')"
finish $FAILED
