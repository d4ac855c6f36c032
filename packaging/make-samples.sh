#!/usr/bin/env bash
# Regenerates the first-run sample documents in resources/samples/ from Debian 12 packages
# whose texts are in the public domain (see resources/samples/README.md). The results are
# committed, so neither builds nor CI run this; it documents where every sample comes from.
# Needs: apt-get (download only), dpkg-deb, python3 and groff (for the PDF).
set -euo pipefail
cd "$(dirname "$0")/.."
out=resources/samples
command -v groff >/dev/null && groff -Tpdf -v >/dev/null 2>&1 ||
    { echo "make-samples: needs the Debian package groff (groff -Tpdf)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q jargon-text bible-kjv bible-kjv-text >/dev/null)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
bible() { "$work/root/usr/bin/bible" -p "$work/root/usr/lib" -l0 "$@"; }

mkdir -p "$out"
bible "ecclesiastes1:1-12:14" >"$work/ecclesiastes.raw"
bible "ruth1:1-4:22" >"$work/ruth.raw"
zcat "$work/root/usr/share/doc/jargon-text/jargon.txt.gz" >"$work/jargon.txt"

python3 - "$work" "$out" <<'PY'
import re, sys, textwrap
work, out = sys.argv[1], sys.argv[2]

def chapters(raw):
    """bible -l0 prints 'Book N' headings and '  V text' verses, one per line."""
    result = []
    for line in open(raw, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        m = re.match(r"^\s+(\d+) (.*)$", line)
        if m:
            result[-1][1].append((int(m.group(1)), m.group(2).strip()))
        else:
            result.append((int(line.split()[-1]), []))
    return result

# Ecclesiastes as plain text: one verse a paragraph, wrapped for reading in any viewer.
eccl = chapters(f"{work}/ecclesiastes.raw")
with open(f"{out}/ecclesiastes-kjv.txt", "w", encoding="utf-8") as f:
    f.write("THE BOOK OF ECCLESIASTES, OR, THE PREACHER\n\n")
    f.write("King James Version (1611). Public domain.\n")
    for number, verses in eccl:
        f.write(f"\n\nCHAPTER {number}\n")
        for v, text in verses:
            f.write("\n" + textwrap.fill(f"{v} {text}", width=76,
                                         subsequent_indent=" " * (len(str(v)) + 1)) + "\n")

# Ruth as groff -ms with one PDF bookmark per chapter, so the importer finds chapters.
def roff(text):
    text = text.replace("\\", "\\e")
    return "\\&" + text if text[:1] in ".'" else text

ruth = chapters(f"{work}/ruth.raw")
with open(f"{work}/ruth.ms", "w", encoding="utf-8") as f:
    f.write(".pdfinfo /Title The Book of Ruth\n")
    f.write(".pdfinfo /Author King James Version (1611)\n")
    f.write(".pdfinfo /Subject Public domain sample document for Folio\n")
    f.write(".TL\nThe Book of Ruth\n.AU\nKing James Version (1611)\n")
    # Each chapter on its own page: a bookmark points at a page, so chapters sharing one
    # would get the same place in the text.
    for number, verses in ruth:
        if number > 1:
            f.write(".bp\n")
        f.write(f'.pdfbookmark 1 "Chapter {number}"\n.SH\nChapter {number}\n')
        for v, text in verses:
            f.write(f".PP\n\\fB{v}\\fP {roff(text)}\n")

# Jargon File 4.4.7, Part I chapters 1, 2 and 5 to 8, as Markdown. The text edition
# indents prose by three spaces, bullets by five (their continuations by seven), quoted
# examples by five and preformatted mail examples by one.
lines = open(f"{work}/jargon.txt", encoding="utf-8").read().replace("\u00a0", " ").split("\n")
def chapter_range(first, last):
    start = next(i for i, l in enumerate(lines) if l.startswith(f"Chapter {first}. "))
    end = next(i for i, l in enumerate(lines) if l.startswith(f"Chapter {last + 1}. "))
    return lines[start:end]

def to_markdown(block):
    md, literal, mail = [], None, False
    def close():
        nonlocal literal
        if literal is not None:
            while literal and not literal[-1].strip():
                literal.pop()
            md.extend(["```"] + literal + ["```", ""])
            literal = None
    for line in block:
        indent = len(line) - len(line.lstrip(" "))
        text = line.strip()
        if mail and text and indent == 3:
            mail = False
        if mail or (text and indent == 1):
            if literal is None:
                literal = []
            mail = True
            literal.append(line[1:])
            continue
        if text and indent >= 5 and not text.startswith("• ") and not (
                indent >= 7 and md and md[-1].startswith(("- ", "  "))):
            if literal is None:
                literal = []
            literal.append(line[5:])
            continue
        if not text:
            (md if literal is None else literal).append("")
            continue
        close()
        # Braces mark cross-references to lexicon entries; angle brackets in prose are
        # hacker notation, not HTML.
        text = re.sub(r"\{([^{}]+)\}", r"*\1*", text).replace("<", "\\<")
        if text.startswith(">"):
            text = "\\" + text
        if line.startswith("Chapter "):
            md += [f"## {text}", ""]
        elif text.startswith("• "):
            md.append("- " + text[2:])
        elif indent >= 7:
            md.append("  " + text)
        else:
            md.append(text)
    close()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(md)).strip() + "\n"

with open(f"{out}/jargon-file-hacker-culture.md", "w", encoding="utf-8") as f:
    f.write("# The Jargon File, version 4.4.7: Hacker Culture and Writing Style\n\n")
    f.write("Chapters 1, 2 and 5 to 8 of Part I of *The on-line hacker Jargon File, "
            "version 4.4.7, 29 Dec 2003*, edited by Eric S. Raymond. The Jargon File is in "
            "the public domain.\n\n")
    f.write(to_markdown(chapter_range(1, 2)) + "\n" + to_markdown(chapter_range(5, 8)))
PY

groff -ms -Tpdf "$work/ruth.ms" >"$out/ruth-kjv.pdf"
du -b "$out"/* | sort -k2
