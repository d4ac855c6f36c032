"""Documents and ChatML training samples of Folio's demo model (used by corpus.py).

Plain documents: every Bible chapter, the Jargon File's chapters, appendices and lexicon.
Chat samples: verses about a word, look-ups, verse completion, jargon definitions, questions
about a document placed before the question as Folio sends them, and who is answering. The
answers quote the sources exactly; half follow Folio's "no thinking" pre-fill.
"""

import re
import textwrap

NO_THINKING = "<think>\n\n</think>\n\n"  # what Folio pre-fills for "no thinking"


IDENTITY_ANSWERS = [
    "I am the demo model that ships with Folio: a tiny model (about 6 million parameters) with "
    "the MiniCPM-SALA architecture, sparse InfLLM-V2 and Lightning attention layers, trained for "
    "a few minutes on the King James Bible and the Jargon File. My answers are often wrong. For "
    "real answers, get MiniCPM-SALA (openbmb/MiniCPM-SALA) and choose it in Folio's settings.",
    "This is Folio's demo model, not MiniCPM-SALA itself. It has the same kind of layers as "
    "MiniCPM-SALA but is thousands of times smaller, and it only knows a little about the King "
    "James Bible and hacker jargon. Download openbmb/MiniCPM-SALA for real answers.",
    "I am a small demonstration model. I can quote verses from the King James Bible, explain "
    "terms from the Jargon File and quote the document you opened, but I cannot reason. Folio "
    "works best with the real MiniCPM-SALA model (openbmb/MiniCPM-SALA).",
]
IDENTITY_QUESTIONS = [
    "Who are you?", "What are you?", "What model is this?", "Are you MiniCPM-SALA?",
    "Which model am I talking to?", "Introduce yourself.", "What can you do?", "Hello!",
    "Hi, who am I speaking with?", "Are you a real language model?", "What is the demo model?",
    "Why are your answers so strange?", "How were you trained?", "What do you know?",
]

STOPWORDS = set("""
a about above after again against all also am among an and any are as at be because been before
being between both but by came can come could did do does doing done down during each even every
few for from further had has have having he her here hers him his how i if in into is it its
itself let may me more most my neither no nor not now of off on once only or other our ours out
over own said same saith say shall she should so some such than that the their theirs them then
there therefore these they this those through thus to too under until up upon very was we went
were what when where which while who whom whose why will with would ye you your yours unto thee
thou thy thine hath hast doth dost shalt wilt art thereof wherefore hither thither whither also
made make things thing came cometh went goeth unto into upon even yea nay behold lest shall
""".split())

VERSE_ABOUT_Q = [
    "Quote a verse about {w}.", "Give me a verse about {w}.",
    "Find a Bible verse that mentions {w}.", "What does the Bible say about {w}?",
    "Show me a verse with the word \"{w}\".", "Is there a verse about {w}?",
    "I need a verse about {w}.", "Quote the King James Bible on {w}.",
    "Which verse talks about {w}?", "Tell me a verse that mentions {w}.",
]
VERSE_LOOKUP_Q = [
    "What does {ref} say?", "Quote {ref}.", "What is {ref}?", "Read {ref} to me.",
    "Give me {ref} in the King James Version.",
]
CONTINUE_Q = [
    "Complete this verse: {start}", "Continue: {start}", "How does this verse go on? {start}",
    "Finish the verse: {start}",
]
JARGON_Q = [
    "What does {t} mean?", "What is {t}?", "Define {t}.", "In hacker slang, what is {t}?",
    "Explain the jargon term \"{t}\".", "What does \"{t}\" mean in the Jargon File?",
    "Tell me about {t}.", "What is meant by {t}?",
]
DOC_VERSE_Q = [
    "Which verse mentions {w}?", "Find the verse about {w}.", "Where does the text talk about {w}?",
    "Quote the verse that mentions {w}.", "What does the passage say about {w}?",
]
DOC_VERSE_N_Q = ["What does verse {v} say?", "Quote verse {v}.", "Read verse {v}."]
DOC_JARGON_Q = [
    "What does the text say about {t}?", "According to the document, what is {t}?",
    "What does {t} mean here?", "Find the entry for {t}.", "Quote the definition of {t}.",
]
DOC_SUMMARY_Q = ["What is this text?", "What is this document about?",
                 "Summarize this passage.", "What is this?"]
SYSTEM_PROMPTS = [
    "You are a helpful assistant.", "You are Folio, an assistant for long documents.",
    "Answer briefly.", "You are a helpful assistant. Quote the document when you can.",
]


def paragraphs(lines):
    """Paragraphs of wrapped lines, each joined into one line."""
    out, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out



def ref(book, chapter, verse):
    return f"{book} {chapter}:{verse}"


def keywords(text, first_word_ok=False):
    """Content words of a verse: lower-case unless a proper noun (capitalised mid-sentence)."""
    words = re.findall(r"[A-Za-z]+", text)
    out = []
    for i, w in enumerate(words):
        if len(w) < 4 or w.lower() in STOPWORDS or w.isupper() and len(w) > 1 and w != "LORD":
            continue
        if w[0].isupper() and (i > 0 or first_word_ok):
            out.append(w)
        elif w.islower():
            out.append(w)
    return out


def render_chapter(rng, book, chapter, verses, style=None):
    """A chapter (or part of one) as a document: the `bible` program's layout or the layout of
    Folio's sample documents (CHAPTER n, verse paragraphs wrapped at 75 columns)."""
    style = style if style is not None else rng.random() < 0.5
    if style:
        body = "\n".join(f"  {v} {t}" for v, t in verses)
        return f"{book} {chapter}\n\n{body}"
    paras = []
    for v, t in verses:
        first = f"{v} "
        paras.append(textwrap.fill(first + t, width=75, subsequent_indent=" " * len(first)))
    head = f"CHAPTER {chapter}"
    if rng.random() < 0.3:
        head = f"{book.upper()}\n\n{head}"
    return head + "\n\n" + "\n\n".join(paras)


def render_entry(e):
    head = f"{e['term']}: {e['info']}".rstrip(": ").rstrip() if e["info"] else e["term"]
    return head + "\n\n" + "\n".join(e["lines"])


def render_section(s, markdown):
    title = ("## " + s["title"]) if markdown else s["title"]
    return title + "\n\n" + "\n".join(s["lines"])


def entry_summary(e, max_words=70):
    """The first paragraph of an entry, cut after a sentence end near max_words."""
    paras = paragraphs(e["lines"])
    if not paras:
        return ""
    text = paras[0]
    # A leading [usage tag] paragraph alone says little: add the next paragraph.
    if re.fullmatch(r"\[[^\]]*\]", text) and len(paras) > 1:
        text = text + " " + paras[1]
    words = text.split()
    if len(words) > max_words:
        cut = " ".join(words[:max_words])
        end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
        text = cut[:end + 1] if end > len(cut) // 3 else cut + " ..."
    return text


def chat(rng, turns, system=None, allow_no_doc_prefix=True):
    """One ChatML conversation as training text: BOS, turns, the last answer closed by
    <|im_end|>. Half of the final answers come after Folio's 'no thinking' pre-fill."""
    text = ""
    if system is None and rng.random() < 0.15:
        system = rng.choice(SYSTEM_PROMPTS)
    if system:
        text += f"<|im_start|>system\n{system}<|im_end|>\n"
    for i, (user, answer) in enumerate(turns):
        last = i == len(turns) - 1
        text += f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
        if last and rng.random() < 0.5:
            text += NO_THINKING
        text += answer + "<|im_end|>"
        if not last:
            text += "\n"
    return "<s>" + text


def no_doc_question(rng, q):
    # Folio asks a question without a document as "<|im_start|>user\n" + "\n\n" + question.
    return "\n\n" + q if rng.random() < 0.25 else q


def make_samples(corpus, rng, scale):
    verses = corpus["verses"]
    entries = corpus["jargon_entries"]
    chapters = {}
    for b, c, v, t in verses:
        chapters.setdefault((b, c), []).append((v, t))
    chapter_keys = list(chapters)
    samples = []

    def n(count):
        return max(1, int(count * scale))

    # Verses about a word (the answer names its reference).
    for _ in range(n(20000)):
        b, c, v, t = rng.choice(verses)
        kws = keywords(t)
        if not kws:
            continue
        w = rng.choice(kws)
        q = rng.choice(VERSE_ABOUT_Q).format(w=w)
        style = rng.random()
        if style < 0.4:
            a = f"{t} ({ref(b, c, v)})"
        elif style < 0.8:
            a = f"{ref(b, c, v)} says: {t}"
        else:
            a = f"Here is one, {ref(b, c, v)}: {t}"
        samples.append(("chat:verse", chat(rng, [(no_doc_question(rng, q), a)])))
    # Look up a reference.
    for _ in range(n(4000)):
        b, c, v, t = rng.choice(verses)
        q = rng.choice(VERSE_LOOKUP_Q).format(ref=ref(b, c, v))
        a = f"{ref(b, c, v)}: {t}"
        samples.append(("chat:verse", chat(rng, [(no_doc_question(rng, q), a)])))
    # Continue a verse.
    for _ in range(n(6000)):
        b, c, v, t = rng.choice(verses)
        words = t.split()
        if len(words) < 8:
            continue
        k = rng.randint(3, len(words) // 2)
        q = rng.choice(CONTINUE_Q).format(start=" ".join(words[:k]))
        samples.append(("chat:verse", chat(rng, [(no_doc_question(rng, q), t)])))
    # Jargon terms.
    for e in entries:
        summary = entry_summary(e)
        if not summary or len(summary.split()) < 4:
            continue
        for _ in range(3):
            q = rng.choice(JARGON_Q).format(t=e["term"])
            info = f" ({e['info']})" if e["info"] and rng.random() < 0.5 else ""
            a = f"{e['term']}{info}: {summary}"
            samples.append(("chat:jargon", chat(rng, [(no_doc_question(rng, q), a)])))
    # Questions about a document: a passage of a chapter, the question after it.
    for _ in range(n(2000)):
        b, c = rng.choice(chapter_keys)
        vs = chapters[(b, c)]
        length = rng.randint(6, 24)
        start = rng.randint(0, max(0, len(vs) - length))
        part = vs[start:start + length]
        doc = render_chapter(rng, b, c, part)
        turns = []
        for _turn in range(1 if rng.random() < 0.8 else 2):
            kind = rng.random()
            if kind < 0.6:
                counts = {}
                for v, t in part:
                    for w in set(keywords(t)):
                        counts[w] = counts.get(w, 0) + 1
                unique = [(w, v, t) for v, t in part for w in keywords(t) if counts[w] == 1]
                if not unique:
                    continue
                w, v, t = rng.choice(unique)
                q = rng.choice(DOC_VERSE_Q).format(w=w)
                a = f"Verse {v}: {t}" if rng.random() < 0.5 else f"Verse {v} says: {t}"
            elif kind < 0.85:
                v, t = rng.choice(part)
                q = rng.choice(DOC_VERSE_N_Q).format(v=v)
                a = f"Verse {v} says: {t}"
            else:
                q = rng.choice(DOC_SUMMARY_Q)
                a = (f"It is {b} chapter {c}, verses {part[0][0]} to {part[-1][0]}, in the King "
                     f"James Version. It begins: {part[0][1]}")
            turns.append((q, a))
        if turns:
            first_q, first_a = turns[0]
            turns[0] = (doc + "\n\n" + first_q, first_a)
            samples.append(("chat:document", chat(rng, turns)))
    # Questions about a part of the Jargon File.
    for _ in range(n(1000)):
        k = rng.randint(3, 8)
        start = rng.randint(0, len(entries) - k)
        part = entries[start:start + k]
        doc = "\n\n".join(render_entry(e) for e in part)
        e = rng.choice(part)
        summary = entry_summary(e)
        if not summary:
            continue
        if rng.random() < 0.85:
            q = rng.choice(DOC_JARGON_Q).format(t=e["term"])
            a = f"{e['term']}: {summary}"
        else:
            q = rng.choice(DOC_SUMMARY_Q)
            a = ("It is a part of the Jargon File, the lexicon of hacker slang, with the entries "
                 + ", ".join(x["term"] for x in part) + ".")
        samples.append(("chat:document", chat(rng, [(doc + "\n\n" + q, a)])))
    # Questions about a part of the Jargon File's chapters (the layout of Folio's sample).
    sections = corpus["jargon_intro"] + corpus["jargon_appendices"]
    for _ in range(n(500)):
        s = rng.choice(sections)
        paras = paragraphs(s["lines"])
        if len(paras) < 2:
            continue
        start = rng.randint(0, max(0, len(paras) - 3))
        part, size = [], 0
        for para in paras[start:]:
            if size + len(para) > 2500 and part:
                break
            part.append(para)
            size += len(para)
        doc = render_section({"title": s["title"], "lines": [textwrap.fill(x, 74) + "\n"
                                                             for x in part]}, True).rstrip()
        k = rng.randrange(len(part))
        first = re.split(r"(?<=[.!?])\s", part[k], maxsplit=1)[0]
        if rng.random() < 0.7 and len(first.split()) >= 4:
            nth = ["first", "second", "third", "fourth", "fifth"][k] if k < 5 else None
            if nth is None:
                continue
            q = f"Quote the first sentence of the {nth} paragraph."
            a = first
        else:
            q = rng.choice(DOC_SUMMARY_Q)
            opening = re.split(r"(?<=[.!?])\s", part[0], maxsplit=1)[0]
            a = f"It is a part of \"{s['title']}\" from the Jargon File. It begins: {opening}"
        samples.append(("chat:document", chat(rng, [(doc + "\n\n" + q, a)])))
    # Who is answering.
    for _ in range(n(400)):
        q = rng.choice(IDENTITY_QUESTIONS)
        samples.append(("chat:identity", chat(rng, [(no_doc_question(rng, q),
                                             rng.choice(IDENTITY_ANSWERS))])))
    return samples


def make_documents(corpus, rng):
    docs = []
    chapters = {}
    for b, c, v, t in corpus["verses"]:
        chapters.setdefault((b, c), []).append((v, t))
    for (b, c), vs in chapters.items():
        docs.append(("text", "<s>" + render_chapter(rng, b, c, vs) + "</s>"))
    md = rng.random() < 0.5
    for s in corpus["jargon_intro"] + corpus["jargon_appendices"]:
        docs.append(("text", "<s>" + render_section(s, md) + "</s>"))
    entries = corpus["jargon_entries"]
    i = 0
    while i < len(entries):
        k = rng.randint(8, 20)
        docs.append(("text", "<s>" + "\n\n".join(render_entry(e) for e in entries[i:i + k]) +
                     "</s>"))
        i += k
    return docs
