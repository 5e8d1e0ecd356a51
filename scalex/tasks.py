"""
Multiple-choice evaluation: a JSONL task format, loaders that turn public sets into it, and
the scorer (`python eval.py tasks RUN --tasks=...` and `make eval` call it).

A task file has one example per line:
    {"context": "...", "choices": ["...", "..."], "label": 0, "lang": "zh", "id": "optional"}
Each choice is scored by its log-likelihood given the context (the context starts after an
end-of-text token, as every training document does). Two accuracies: `acc` picks the choice
with the highest raw log-likelihood, `acc_norm` the highest log-likelihood per UTF-8 byte of
the choice (so a longer choice is not penalised for its length, and bytes compare across
tokenizers). Each comes with a 95% Wilson interval.

Public sets (loaders, downloaded once from the Hub's parquet export, cached as task files):
- xcopa_zh: XCOPA's Chinese test set (500): causal commonsense, premise + "because/so" +
  two alternatives. Short, native-quality Chinese, two choices: a small model can beat chance.
- xstorycloze_en / xstorycloze_zh: XStoryCloze's eval set (1,511 stories): pick the right
  ending of a four-sentence story. The Chinese set is a professional translation of the same
  stories as the English one, so en and zh accuracies compare like for like.
Belebele (reading comprehension over long passages, four choices) and XNLI (three-way
entailment) are left out: models of the sizes trained here score at chance on both, so they
would measure nothing; add them as task files when a run is large enough.
"""
import json
import os
import textwrap

from scalex.configurator import ConfigError
from scalex.files import atomic_write

TASK_DIR = os.environ.get("SCALEX_TASK_DIR", "data/tasks")  # where loaded public sets are cached
PARQUET_REVISION = "refs%2Fconvert%2Fparquet"                 # the Hub's parquet export of a dataset


# ----------------------------------------------------------------------------- the format
def read_task_file(path):
    """Validated examples of one JSONL task file."""
    if not os.path.isfile(path):
        raise ConfigError(f"tasks: no such file '{path}'")
    out = []
    with open(path, encoding="utf-8", errors="strict") as f:
        for n, line in enumerate(_lines(f, path), 1):
            if not line.strip():
                continue
            try:
                ex = json.loads(line)
            except ValueError:  # UnicodeDecodeError too: not UTF-8
                raise ConfigError(f"tasks: {path} line {n} is not JSON") from None
            out.append(check_example(ex, f"{path} line {n}"))
    if not out:
        raise ConfigError(f"tasks: {path} holds no examples")
    return out


def _lines(f, path):
    try:
        yield from f
    except UnicodeDecodeError:
        raise ConfigError(f"tasks: {path} is not UTF-8 text; save it as UTF-8 JSONL") from None


def check_example(ex, where):
    if not isinstance(ex, dict):
        raise ConfigError(f"tasks: {where}: not a JSON object; write {{\"context\": ..., \"choices\": [...], \"label\": N, \"lang\": ...}}")
    for key, typ in (("context", str), ("choices", list), ("label", int), ("lang", str)):
        if not isinstance(ex.get(key), typ) or isinstance(ex.get(key), bool):
            raise ConfigError(f"tasks: {where}: '{key}' is missing or not a {typ.__name__}")
    if len(ex["choices"]) < 2 or not all(isinstance(c, str) and c for c in ex["choices"]):
        raise ConfigError(f"tasks: {where}: 'choices' must be two or more non-empty strings")
    if not 0 <= ex["label"] < len(ex["choices"]):
        raise ConfigError(f"tasks: {where}: label {ex['label']} is outside its {len(ex['choices'])} choices (0-based)")
    return ex


def load_tasks(spec):
    """{task name: examples} from a comma-separated list of loader names and .jsonl files."""
    out = {}
    for item in filter(None, (s.strip() for s in str(spec).split(","))):
        if item in LOADERS:
            out[item] = load_public(item)
        elif item.endswith(".jsonl") or os.path.exists(item):
            out[os.path.basename(item).removesuffix(".jsonl")] = read_task_file(item)
        else:
            raise ConfigError(f"tasks: '{item}' is neither a loader ({', '.join(LOADERS)}) nor a .jsonl file")
    if not out:
        raise ConfigError("tasks: no task given")
    return out


# ----------------------------------------------------------------------------- public sets
def _xcopa(row, lang):
    connector = {"cause": "，因为", "effect": "，所以"}[row["question"]]
    return {"id": str(row.get("idx", "")), "lang": lang, "context": row["premise"].rstrip("。.！!") + connector,
            "choices": [row["choice1"], row["choice2"]], "label": int(row["label"])}


def _storycloze(row, lang):
    sep = "" if lang in ("zh", "ja") else " "  # no spaces between sentences in Chinese
    ctx = sep.join(row[f"input_sentence_{i}"].strip() for i in range(1, 5))
    return {"id": str(row.get("story_id", "")), "lang": lang, "context": ctx,
            "choices": [sep + row["sentence_quiz1"].strip(), sep + row["sentence_quiz2"].strip()],
            "label": int(row["answer_right_ending"]) - 1}


# name: (Hub dataset, config = folder of its parquet export, split, language, row -> example)
LOADERS = {
    "xcopa_zh": ("cambridgeltl/xcopa", "zh", "test", "zh", _xcopa),
    "xstorycloze_en": ("juletxara/xstory_cloze", "en", "eval", "en", _storycloze),
    "xstorycloze_zh": ("juletxara/xstory_cloze", "zh", "eval", "zh", _storycloze),
}


def load_public(name):
    """A public set as task examples: from the cache (TASK_DIR/<name>.jsonl) when there,
    else downloaded from the Hub's parquet export and cached."""
    cache = os.path.join(TASK_DIR, f"{name}.jsonl")
    if os.path.isfile(cache):
        return read_task_file(cache)
    import pyarrow.parquet as pq

    from scalex import sources
    repo, config, split, lang, convert = LOADERS[name]
    base = sources.hub_endpoint()
    try:  # sources' Hub client: one quick reachability check offline, token kept off redirects
        try:
            files = [f for f in sources.hub_list(repo, f"{config}/{split}", PARQUET_REVISION) if f.endswith(".parquet")]
        except ConfigError as e:
            if "holds no" not in str(e):
                raise
            files = []
        if not files:
            raise ValueError(f"no parquet file under {config}/{split}")
        rows = []
        for f in files:
            rows += pq.ParquetFile(sources.HubFile(repo, f, PARQUET_REVISION)).read().to_pylist()
    except (ConfigError, OSError, ValueError) as e:
        why = textwrap.shorten(str(e).removeprefix("languages: "), 120, placeholder=" ...")  # whole words
        raise ConfigError(f"tasks: loader {name} cannot fetch {repo} ({config}/{split}) from {base} "
                          f"({why}); offline, put the set as a task file at {cache} "
                          f"or pass --tasks=FILE.jsonl") from None
    examples = [check_example(convert(row, lang), f"{name} row {i}") for i, row in enumerate(rows)]
    os.makedirs(TASK_DIR, exist_ok=True)
    atomic_write(cache, lambda fh: fh.writelines(json.dumps(ex, ensure_ascii=False) + "\n" for ex in examples), mode="w")
    return examples


# ----------------------------------------------------------------------------- scoring
def wilson(k, n):
    """95% Wilson score interval of a proportion k/n (sensible at small n and near 0 or 1), by
    scipy; no examples say nothing: [0, 1]."""
    if n == 0:
        return [0.0, 1.0]
    from scipy.stats import binomtest
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def loglikelihoods(model, tok, requests, block_size, batch_size, device, autocast, desc="tasks"):
    """Log-likelihood (nats) of each (lang, context, continuation) request under the model.
    A sequence longer than block_size + 1 keeps its end (the context is cut from the left)."""
    import numpy as np
    import torch
    from tqdm import tqdm
    seqs = []
    for lang, ctx, cont in requests:
        if tok.meta["variant"] == "disjoint" and lang not in tok.offsets:
            raise ConfigError(f"tasks: language '{lang}' is not one of this run's disjoint tokenizer ({', '.join(tok.offsets)})")
        off = tok.offsets.get(lang, 0)
        c = [tok.meta["eot"] + off] + [i + off for i in tok.enc.encode_ordinary(ctx)]
        k = [i + off for i in tok.enc.encode_ordinary(cont)]
        seq = (c + k)[-(block_size + 1):]
        seqs.append((seq, min(len(k), len(seq) - 1)))
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))  # similar lengths share a batch
    out = [0.0] * len(seqs)
    for b0 in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch", leave=False, disable=None):
        idx = order[b0:b0 + batch_size]
        T = max(len(seqs[i][0]) for i in idx) - 1
        x = np.zeros((len(idx), T), dtype=np.int64)
        y = np.full((len(idx), T), -100, dtype=np.int64)  # -100: not scored (context, padding)
        for r, i in enumerate(idx):
            seq, nk = seqs[i]
            x[r, :len(seq) - 1] = seq[:-1]
            y[r, len(seq) - 1 - nk:len(seq) - 1] = seq[len(seq) - nk:]
        with torch.no_grad(), autocast:
            losses = model(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))
        for r, i in enumerate(idx):
            out[i] = -float(losses[r].double().sum())
    return out


def evaluate(model, tok, name, examples, block_size, batch_size, device, autocast):
    """{task: {lang, n, acc, acc_ci95, acc_norm, acc_norm_ci95, chance}}; a task whose
    examples span several languages gives one entry per language (name_lang)."""
    requests = [(ex["lang"], ex["context"], c) for ex in examples for c in ex["choices"]]
    ll = loglikelihoods(model, tok, requests, block_size, batch_size, device, autocast, desc=name)
    per_lang, i = {}, 0
    for ex in examples:
        k = len(ex["choices"])
        s = ll[i:i + k]
        i += k
        norm = [v / len(c.encode("utf-8")) for v, c in zip(s, ex["choices"])]
        acc = per_lang.setdefault(ex["lang"], [0, 0, 0, 0.0])
        acc[0] += 1
        acc[1] += s.index(max(s)) == ex["label"]
        acc[2] += norm.index(max(norm)) == ex["label"]
        acc[3] += 1 / k
    out = {}
    for lang, (n, hit, hit_norm, chance) in per_lang.items():
        out[name if len(per_lang) == 1 else f"{name}_{lang}"] = {
            "lang": lang, "n": n, "acc": hit / n, "acc_ci95": wilson(hit, n),
            "acc_norm": hit_norm / n, "acc_norm_ci95": wilson(hit_norm, n), "chance": chance / n}
    return out
