#!/usr/bin/env bash
# Puts the demo model trained by run_on_gpu.sh into resources/demo-model/: its config.json and
# model.safetensors (from the GPU run's $OUT) plus the tokenizer files of .demo-data/tokenizer,
# then checks that the weights were trained with this tokenizer and that the engine loads the
# folder and answers.
#   tools/demo-model/install.sh OUT_FOLDER     (the folder holding demo-model/, or demo-model/)
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${1:?usage: tools/demo-model/install.sh OUT_FOLDER}
[ -f "$src/demo-model/model.safetensors" ] && src=$src/demo-model
DATA=${DEMO_DATA:-.demo-data}
DEST=${DEMO_DEST:-resources/demo-model}
CLI=${FOLIO_CLI:-build-demo/app/cli/folio-cli}
PY=${PYTHON:-python3}
for f in "$src/config.json" "$src/model.safetensors" "$DATA/tokenizer/tokenizer.model" \
         "$DATA/meta.json"; do
    [ -f "$f" ] || { echo "install.sh: $f is missing" >&2; exit 1; }
done
"$PY" - "$src" "$DATA" <<'EOF'
import json, struct, sys
src, data = sys.argv[1], sys.argv[2]
cfg = json.load(open(f"{src}/config.json"))
meta = json.load(open(f"{data}/meta.json"))
with open(f"{src}/model.safetensors", "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
info = header.get("__metadata__", {})
problems = []
if cfg.get("model_type") != "minicpm_sala" or cfg.get("folio_demo") is not True:
    problems.append("config.json is not the demo model's")
if cfg.get("vocab_size") != meta["vocab_size"]:
    problems.append(f"vocab_size {cfg.get('vocab_size')} != tokenizer's {meta['vocab_size']}")
if info.get("tokenizer_sha256") != meta["tokenizer_sha256"]:
    problems.append("the weights were trained with another tokenizer.model than "
                    f"{data}/tokenizer (run_on_gpu.sh with this {data})")
if problems:
    sys.exit("install.sh: " + "; ".join(problems))
print(f"install.sh: {info.get('steps')} steps, {info.get('tokens')} tokens, "
      f"val loss {info.get('val_loss')}, trained on {info.get('device')}")
EOF
rm -rf "$DEST"
mkdir -p "$DEST"
install -m 644 "$src/config.json" "$src/model.safetensors" "$DEST/"
install -m 644 "$DATA"/tokenizer/* "$DEST/"
cat > "$DEST/README.md" <<'EOF'
# Folio demo model

A tiny model (5.7M parameters) with the MiniCPM-SALA architecture, trained for a few minutes on
the King James Bible and the Jargon File (both public domain, from Debian's `bible-kjv-text` and
`jargon-text` packages). It only demonstrates Folio; for real answers install MiniCPM-SALA
(`openbmb/MiniCPM-SALA`). How it was made and how to rebuild it: `docs/demo-model.md`,
`tools/demo-model/`.
EOF
if [ -x "$CLI" ]; then
    "$CLI" generate --model "$DEST" --chat --temperature 0 --max-tokens 48 \
        --prompt "Quote a verse about love." --stats
fi
ls -l "$DEST"
du -sh "$DEST"
