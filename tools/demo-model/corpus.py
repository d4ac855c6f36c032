#!/usr/bin/env python3
"""Corpus, chat samples, tokenizer files and training data of Folio's demo model.

Python standard library only (runs on a bare Debian 12). prepare.sh calls the subcommands in
order; each one reads what the previous wrote into the work folder:

  corpus      KJV text (output of the `bible` program) + Jargon File text -> corpus.json
              (verses, jargon sections and entries, cleaned) and spm_input.txt (one line of
              plain text per sentence piece training sentence)
  tokfiles    tokenizer.vocab of spm_train -> tokenizer_config.json, added_tokens.json,
              special_tokens_map.json, generation_config.json, chat_template.jinja
  stream      corpus.json -> stream_train.txt / stream_val.txt (samples.py): every document as
              "<s>text</s>" (plain text) or "<s><|im_start|>user\\n...<|im_end|>" (chat), to be
              tokenized by the engine's own tokenizer (folio-cli tokenize), so the training ids
              are exactly the ids the engine produces for the same text at inference time
  pack        folio-cli's id lists -> train.bin / val.bin (little-endian uint16) + meta.json
  paritycheck compares folio-cli's ids of lines joined by <|im_end|> with spm_encode's ids of
              the same lines (each plain segment is encoded on its own by both)
"""

import argparse
import array
import hashlib
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from samples import (CONTINUE_Q, DOC_JARGON_Q, DOC_SUMMARY_Q, DOC_VERSE_N_Q,  # noqa: E402
                     DOC_VERSE_Q, IDENTITY_ANSWERS, IDENTITY_QUESTIONS, JARGON_Q, SYSTEM_PROMPTS,
                     VERSE_ABOUT_Q, VERSE_LOOKUP_Q, make_documents, make_samples, paragraphs)

# Tokens of the demo tokenizer. <unk>/<s>/</s> are sentencepiece's own control pieces (ids
# 0/1/2 like the real MiniCPM4 tokenizer); the rest are user-defined pieces of the model,
# listed again as added tokens so that the engine splits them out of text atomically.
CHATML = ["<|im_start|>", "<|im_end|>"]
THINK = ["<think>", "</think>"]
USER_DEFINED = CHATML + THINK
CONTROL = ["<unk>", "<s>", "</s>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)

def log(*args):
    print("corpus.py:", *args, file=sys.stderr, flush=True)


def sanitize(text):
    """Text of the sources never contains token strings; keep it that way (like the app does,
    a zero-width space keeps such a string literal)."""
    for s in USER_DEFINED + CONTROL:
        text = text.replace(s, s[0] + "\u200b" + s[1:])
    return text


# ------------------------------------------------------------------------------------------
# Sources


def parse_kjv(path):
    """`bible -l100000 Gen1:1-Rev22:21` output: 'Book N' headings and '  V text' verse lines."""
    verses = []
    book = chapter = None
    head = re.compile(r"^(\S.*\S) (\d+)$")
    verse = re.compile(r"^\s+(\d+) (.*\S)\s*$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            m = verse.match(line)
            if m and book is not None:
                verses.append([book, chapter, int(m.group(1)), sanitize(m.group(2))])
                continue
            m = head.match(line)
            if not m:
                raise SystemExit(f"unexpected line in the KJV text: {line!r}")
            book, chapter = m.group(1), int(m.group(2))
    if len(verses) != 31102:
        raise SystemExit(f"expected 31102 KJV verses, found {len(verses)}")
    return verses


BOX = re.compile(r"^[\s═─│┌┐└┘├┤┬┴┼]+$")


def clean_jargon_line(line):
    line = line[3:] if line.startswith("   ") else line.lstrip(" ")
    line = re.sub(r"\{([^{}]*)\}", r"\1", line)  # {cross reference} -> cross reference
    return sanitize(line.rstrip())


def squeeze_blank(lines):
    out = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out


def parse_jargon(path):
    """The Debian jargon-text rendering of Jargon File 4.4.7: intro chapters, the lexicon
    (':term: pronunciation, part of speech' then indented paragraphs) and appendices."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().replace("\u00a0", " ").split("\n")  # headings use no-break spaces

    def find(prefix, start=0):
        for i in range(start, len(lines)):
            if lines[i].startswith(prefix):
                return i
        raise SystemExit(f"Jargon File: no line starting with {prefix!r}")

    intro0 = find("Chapter 1. Hacker Slang")
    gloss = find("Glossary", intro0)
    app0 = find("Appendix A. Hacker Folklore", gloss)
    bib = find("Bibliography", app0)
    header = re.compile(r"^   :(.+?):\s*(.*)$")
    first_entry = next(i for i in range(gloss, app0) if header.match(lines[i]))

    def sections(a, b, heading):
        out, cur = [], None
        for line in lines[a:b]:
            if heading.match(line):
                cur = {"title": sanitize(line.strip()), "lines": []}
                out.append(cur)
            elif cur is not None and not BOX.match(line):
                cur["lines"].append(clean_jargon_line(line))
        for s in out:
            s["lines"] = squeeze_blank(s["lines"])
        return [s for s in out if s["lines"]]

    # Chapter headings start in column 0; so do subsection headings inside chapter 4.
    intro = sections(intro0, gloss, re.compile(r"^\S"))
    appendices = sections(app0, bib, re.compile(r"^\S"))

    entries, cur = [], None
    for line in lines[first_entry:app0]:
        m = header.match(line)
        if m:
            rest = m.group(2).strip()
            rest = re.sub(r"^//,?\s*", "", rest)
            cur = {"term": sanitize(m.group(1).strip()), "info": sanitize(rest), "lines": []}
            entries.append(cur)
        elif cur is not None:
            if re.match(r"^\s{1,2}[A-Z0-9]$", line):  # letter headings of the lexicon
                continue
            cur["lines"].append(clean_jargon_line(line))
    for e in entries:
        e["lines"] = squeeze_blank(e["lines"])
    entries = [e for e in entries if e["lines"]]
    if len(entries) < 2000:
        raise SystemExit(f"expected over 2000 Jargon File entries, found {len(entries)}")
    return intro, entries, appendices


def cmd_corpus(args):
    verses = parse_kjv(args.kjv)
    intro, entries, appendices = parse_jargon(args.jargon)
    corpus = {"verses": verses, "jargon_intro": intro, "jargon_entries": entries,
              "jargon_appendices": appendices}
    with open(os.path.join(args.work, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(corpus, f, ensure_ascii=False)
    # Sentencepiece training input: one sentence a line, as the text appears in documents.
    with open(os.path.join(args.work, "spm_input.txt"), "w", encoding="utf-8") as f:
        for book, chapter, v, text in verses:
            f.write(f"{v} {text}\n")
        for b in sorted({v[0] for v in verses}):
            f.write(f"{b}\n")
        for s in intro + appendices:
            f.write(s["title"] + "\n")
            for p in paragraphs(s["lines"]):
                f.write(p + "\n")
        for e in entries:
            f.write(f"{e['term']}: {e['info']}\n")
            for p in paragraphs(e["lines"]):
                f.write(p + "\n")
        # The chat scaffolding, so that its words get pieces of their own.
        for q in (VERSE_ABOUT_Q + VERSE_LOOKUP_Q + CONTINUE_Q + JARGON_Q + DOC_VERSE_Q +
                  DOC_VERSE_N_Q + DOC_JARGON_Q + DOC_SUMMARY_Q + IDENTITY_QUESTIONS +
                  SYSTEM_PROMPTS + IDENTITY_ANSWERS):
            for _ in range(20):
                f.write(q.replace("{", "").replace("}", "") + "\n")
        for _ in range(200):
            f.write("user\nassistant\nsystem\n")
    log(f"{len(verses)} verses, {len(intro)} intro sections, {len(entries)} jargon entries, "
        f"{len(appendices)} appendix sections")


# ------------------------------------------------------------------------------------------
# Tokenizer files


def read_vocab(path):
    pieces = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            piece = line.rstrip("\n").split("\t")[0]
            pieces.append(piece)
    return pieces


def token_entry(content, special):
    return {"content": content, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": special}


def cmd_tokfiles(args):
    pieces = read_vocab(args.vocab)
    ids = {p: i for i, p in enumerate(pieces)}
    for i, p in enumerate(CONTROL):
        if pieces[i] != p:
            raise SystemExit(f"piece {i} is {pieces[i]!r}, expected {p!r}")
    for p in USER_DEFINED:
        if p not in ids:
            raise SystemExit(f"{p} is not a piece of the model")
    out = args.out
    os.makedirs(out, exist_ok=True)
    decoder = {str(ids[p]): token_entry(p, True) for p in CONTROL + CHATML}
    for p in THINK:
        decoder[str(ids[p])] = token_entry(p, False)
    decoder = dict(sorted(decoder.items(), key=lambda kv: int(kv[0])))
    config = {
        "add_bos_token": True,
        "add_eos_token": False,
        "add_prefix_space": None,
        "added_tokens_decoder": decoder,
        "additional_special_tokens": ["<|im_end|>", "<|im_start|>"],
        "bos_token": "<s>",
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "legacy": True,
        "model_max_length": 1000000000000000019884624838656,
        "pad_token": None,
        "sp_model_kwargs": {},
        "spaces_between_special_tokens": False,
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }
    special_map = {
        "additional_special_tokens": ["<|im_end|>", "<|im_start|>"],
        "bos_token": {k: v for k, v in token_entry("<s>", True).items() if k != "special"},
        "eos_token": {k: v for k, v in token_entry("<|im_end|>", True).items() if k != "special"},
        "unk_token": {k: v for k, v in token_entry("<unk>", True).items() if k != "special"},
    }
    added = {p: ids[p] for p in sorted(USER_DEFINED)}
    generation = {
        "bos_token_id": 1,
        "do_sample": True,
        "eos_token_id": [2, ids["<|im_end|>"]],
        "pad_token_id": 2,
        "temperature": 0.7,
        "top_p": 0.9,
        "transformers_version": "4.56.1",
    }
    files = {"tokenizer_config.json": config, "special_tokens_map.json": special_map,
             "added_tokens.json": added, "generation_config.json": generation}
    for name, obj in files.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
    with open(os.path.join(out, "chat_template.jinja"), "w", encoding="utf-8") as f:
        f.write(CHAT_TEMPLATE)
    log(f"tokenizer files in {out}: vocab {len(pieces)}, ids {added}")


def cmd_stream(args):
    with open(os.path.join(args.work, "corpus.json"), encoding="utf-8") as f:
        corpus = json.load(f)
    rng = random.Random(args.seed)
    docs = make_documents(corpus, rng) * args.text_repeats + make_samples(corpus, rng, args.scale)
    rng.shuffle(docs)
    n_val = max(20, int(len(docs) * args.val_fraction))
    splits = {"val": docs[:n_val], "train": docs[n_val:]}
    stats = {}
    for name, part in splits.items():
        with open(os.path.join(args.work, f"stream_{name}.txt"), "w", encoding="utf-8") as f:
            for _, text in part:
                f.write(text)
        with open(os.path.join(args.work, f"kinds_{name}.json"), "w") as f:
            json.dump([kind for kind, _ in part], f)
        kinds = {}
        for kind, text in part:
            kinds[kind] = kinds.get(kind, 0) + 1
        stats[name] = {"documents": len(part), "kinds": kinds,
                       "characters": sum(len(t) for _, t in part)}
    with open(os.path.join(args.work, "stream_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    # A few samples to read.
    with open(os.path.join(args.work, "examples.txt"), "w", encoding="utf-8") as f:
        for kind, text in docs[:40]:
            f.write(f"===== {kind}\n{text}\n")
    log(json.dumps(stats))


# ------------------------------------------------------------------------------------------
# Packing and checks


def read_ids(path):
    with open(path) as f:
        text = f.read().split()
    return array.array("H", (int(x) for x in text))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cmd_pack(args):
    tok = json.load(open(os.path.join(args.tokenizer, "added_tokens.json")))
    vocab = len(read_vocab(args.vocab))
    stats = json.load(open(os.path.join(args.work, "stream_stats.json")))
    meta = {"vocab_size": vocab, "bos_token_id": 1, "eos_token_id": 2,
            "im_start_id": tok["<|im_start|>"], "im_end_id": tok["<|im_end|>"],
            "think_ids": [tok["<think>"], tok["</think>"]], "dtype": "uint16 little-endian",
            "splits": {}}
    for name in ("train", "val"):
        ids = read_ids(os.path.join(args.work, f"ids_{name}.txt"))
        if sys.byteorder != "little":
            ids.byteswap()
        if max(ids) >= vocab:
            raise SystemExit(f"{name}: id {max(ids)} outside the vocabulary of {vocab}")
        docs = stats[name]["documents"]
        bos = ids.count(1)
        if bos != docs:
            raise SystemExit(f"{name}: {bos} BOS ids for {docs} documents "
                             "(a document boundary was not tokenized as <s>)")
        if ids.count(0):
            raise SystemExit(f"{name}: <unk> in the token ids (byte fallback should cover all)")
        kinds = json.load(open(os.path.join(args.work, f"kinds_{name}.json")))
        starts = [i for i, t in enumerate(ids) if t == 1] + [len(ids)]
        kind_tokens = {}
        for k, kind in enumerate(kinds):
            kind_tokens[kind] = kind_tokens.get(kind, 0) + starts[k + 1] - starts[k]
        out = os.path.join(args.data, f"{name}.bin")
        with open(out, "wb") as f:
            ids.tofile(f)
        meta["splits"][name] = {"file": f"{name}.bin", "tokens": len(ids), "documents": docs,
                                "kinds": stats[name]["kinds"], "kind_tokens": kind_tokens,
                                "sha256": sha256(out)}
        log(f"{name}: {len(ids)} tokens, {docs} documents -> {out}")
    meta["sources"] = json.load(open(os.path.join(args.work, "sources.json")))
    meta["tokenizer_sha256"] = sha256(os.path.join(args.tokenizer, "tokenizer.model"))
    meta["seed"] = args.seed
    with open(os.path.join(args.data, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def cmd_paritycheck(args):
    """folio-cli's ids of the lines joined by <|im_end|> vs spm_encode's ids of each line."""
    im_end = json.load(open(os.path.join(args.tokenizer, "added_tokens.json")))["<|im_end|>"]
    with open(args.spm_ids) as f:
        expected = [[int(x) for x in line.split()] for line in f.read().split("\n")[:-1]]
    with open(args.engine_ids) as f:
        got_flat = [int(x) for x in f.read().split()]
    got, cur = [], []
    for i in got_flat:
        if i == im_end:
            got.append(cur)
            cur = []
        else:
            cur.append(i)
    got.append(cur)
    if len(got) != len(expected):
        raise SystemExit(f"parity: {len(got)} engine lines vs {len(expected)} spm_encode lines")
    bad = [k for k in range(len(got)) if got[k] != expected[k]]
    tokens = sum(len(e) for e in expected)
    if bad:
        lines = open(args.lines, encoding="utf-8").read().split("\n")
        for k in bad[:5]:
            log(f"line {k}: {lines[k]!r}\n  engine {got[k]}\n  spm    {expected[k]}")
        raise SystemExit(f"parity: {len(bad)} of {len(got)} lines differ")
    log(f"parity: engine and spm_encode agree on all {len(got)} lines ({tokens} tokens)")


def cmd_paritylines(args):
    """Unique non-empty lines of the spm input, joined by <|im_end|> for folio-cli."""
    seen, lines = set(), []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and line not in seen:
                seen.add(line)
                lines.append(line)
    with open(args.lines, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(args.joined, "w", encoding="utf-8") as f:
        f.write("<|im_end|>".join(lines))
    log(f"parity input: {len(lines)} unique lines")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("corpus")
    s.add_argument("--kjv", required=True)
    s.add_argument("--jargon", required=True)
    s.add_argument("--work", required=True)
    s = sub.add_parser("tokfiles")
    s.add_argument("--vocab", required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("stream")
    s.add_argument("--work", required=True)
    s.add_argument("--seed", type=int, default=1234)
    s.add_argument("--scale", type=float, default=1.0, help="multiplies the chat sample counts")
    s.add_argument("--text-repeats", type=int, default=1)
    s.add_argument("--val-fraction", type=float, default=0.01)
    s = sub.add_parser("pack")
    s.add_argument("--work", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--tokenizer", required=True)
    s.add_argument("--vocab", required=True)
    s.add_argument("--seed", type=int, default=1234)
    s = sub.add_parser("paritylines")
    s.add_argument("--input", required=True)
    s.add_argument("--lines", required=True)
    s.add_argument("--joined", required=True)
    s = sub.add_parser("paritycheck")
    s.add_argument("--tokenizer", required=True)
    s.add_argument("--lines", required=True)
    s.add_argument("--spm-ids", required=True)
    s.add_argument("--engine-ids", required=True)
    args = p.parse_args()
    {"corpus": cmd_corpus, "tokfiles": cmd_tokfiles, "stream": cmd_stream, "pack": cmd_pack,
     "paritylines": cmd_paritylines, "paritycheck": cmd_paritycheck}[args.cmd](args)


if __name__ == "__main__":
    main()
