"""
Use trained runs: score them, sample from them, export them.

    python eval.py runs/quickstart/scalex/scalex-en200000-s1337   RUN's loss and bits/byte on val, test, ood
    python eval.py bpb RUN --text=FILE --lang=zh [--name= --max_tokens=]   bits/byte on any text
    python eval.py tasks RUN --tasks=xcopa_zh,my.jsonl      multiple-choice accuracy (tasks.py)
    python eval.py downstream runs/SCALE --tasks=... [--text=zh:FILE,...]   every finished run
    python eval.py sample RUN --prompt="..." [--max_new_tokens=200 --temperature=0.8 --top_k=50 --seed=0]
    python eval.py export RUN OUT_DIR [--lang=zh]          Hugging Face LlamaForCausalLM (export.py)
    python eval.py report runs/quickstart                  report.md (answer, claims, experiments),
                                                           runs.csv, figures (report.py); --readme=README.md
                                                           also rewrites its answer block
    python eval.py plot RUN                                 RUN/plot.png: loss and LR curves, stages marked
    python eval.py --help

RUN is a run directory (runs/<scale>/.../<method>-en<N>-s<seed>) holding ckpt.pt. Results of
`bpb` and `tasks` are also written into the run directory: bpb_extra.json, downstream.json.
Common options: --device=auto|cpu|cuda, --batch_size=N.

Bits per byte, the score everywhere, has one definition (score_stream), for every split and
every command: documents, each ended by end-of-text, after one end-of-text, scored in
non-overlapping windows of the run's block size (each target predicted from its window's
context); bpb = sum of the targets' loss / ln 2 over the sum of their UTF-8 bytes, zero-byte
targets (end-of-text, special tokens) masked out of both sums, since they would add bits over
no bytes; its standard error over documents, by the delta method for a ratio (ratio_se).
"""
import contextlib
import math
import os
import sys

import numpy as np

import data
from scalex.checks import resolve_dtype
from scalex.configurator import ConfigError, fail, parse_args
from scalex.files import atomic_write, read_json, write_json
from scalex.schema import Int, Num, Str, T, Table
from scalex.tokenizer import load_tokenizer

DEVICE = "auto"     # auto: cuda when present, else cpu
BATCH_SIZE = 16     # windows (bpb) or choices (tasks) per forward pass


# ----------------------------------------------------------------------------- bits per byte
# Bits per UTF-8 byte, not loss per token: the languages' tokenizers split text differently
# (a Chinese character is 1-3 tokens, an English word 1-2), so only bytes compare across
# languages and tokenizers (the joint and disjoint ablation). One definition, score_stream,
# scores every held-out split (evaluate) and any text (bits_per_byte).
def score_stream(model, stream, token_bytes, eot_ids, block_size, batch_size, device, autocast,
                 max_tokens=None):
    """Loss and bits per UTF-8 byte of a token stream: documents each ended by end-of-text, after
    one end-of-text (stream[0] is context only, so every document token is a target).
    - The targets stream[1:n+1] (n: all, or max_tokens) are scored in non-overlapping windows of
      block_size (the last one partial), each predicted from its own window's context.
    - bpb = sum of loss / ln 2 over the targets, over the sum of their UTF-8 bytes, where a
      target of zero bytes (end-of-text, any special token) is masked out of both sums: it
      would add bits over no bytes. `loss` is nats per target so counted (`scored` of them).
    - bpb_se: the standard error of bpb over documents (split at each end-of-text), the delta
      method for a ratio of per-document sums (ratio_se): how far bpb would move on another
      sample of as many documents. A document cut by max_tokens counts with its scored part."""
    import torch

    from tqdm import tqdm
    n = len(stream) - 1 if max_tokens is None else min(len(stream) - 1, max_tokens)
    starts, losses, was_training = range(0, n, block_size), [], model.training
    model.eval()
    batches = range(0, len(starts), batch_size)
    for b0 in tqdm(batches, desc="bpb", unit="batch", leave=False, disable=None):
        rows = starts[b0:b0 + batch_size]
        seg = np.asarray(stream[rows[0]:min(n, rows[-1] + block_size) + 1], dtype=np.int64)
        x = np.zeros((len(rows), block_size), dtype=np.int64)
        y = np.full((len(rows), block_size), -100, dtype=np.int64)  # past the end: no target
        for i, s in enumerate(rows):
            m, a = min(block_size, n - s), s - rows[0]
            x[i, :m], y[i, :m] = seg[a:a + m], seg[a + 1:a + m + 1]
        with torch.no_grad(), autocast:
            out = model(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))
        losses.append(out.double().cpu().numpy()[y != -100])  # row by row: the targets in stream order
    model.train(was_training)
    y = np.asarray(stream[1:n + 1], dtype=np.int64)
    loss, nbytes = np.concatenate(losses or [np.zeros(0)]), token_bytes[y].astype(np.float64)
    scored, eot = nbytes > 0, np.isin(y, eot_ids)
    doc = np.cumsum(eot) - eot  # each target's document: an end-of-text belongs to the one it ends
    L, B = np.bincount(doc, np.where(scored, loss, 0.0)) / math.log(2), np.bincount(doc, nbytes)
    L, B = L[B > 0], B[B > 0]
    return {"loss": float(loss[scored].sum() / max(1, scored.sum())),
            "bpb": float(L.sum() / max(1.0, B.sum())), "bpb_se": ratio_se(L, B), "tokens": int(n),
            "scored": int(scored.sum()), "bytes": int(B.sum()), "docs": len(B), "windows": len(starts)}


def eot_ids(tok):
    """The end-of-text id of every language of a tokenizer (one per block of a disjoint one)."""
    return sorted({tok.meta["eot"] + off for off in tok.offsets.values()})


def evaluate(model, streams, tok, block_size, batch_size, max_tokens, device, autocast):
    """{language: score_stream's result} of one held-out split ({language: its shard stream}):
    the shard's documents after one end-of-text, its first max_tokens targets (None: all)."""
    token_bytes, eots = tok.token_bytes(), eot_ids(tok)
    out = {}
    for lang, toks in streams.items():
        n = len(toks) if max_tokens is None else min(len(toks), max_tokens)
        stream = np.concatenate([[tok.meta["eot"] + tok.offsets[lang]], toks[0:n]])
        out[lang] = score_stream(model, stream, token_bytes, eots, block_size, batch_size, device,
                                 autocast)
    return out


def evaluate_held_out(model, held_out, tok, block_size, batch_size, eval_tokens, device, autocast,
                      final=True):
    """{split: evaluate's result} of a run's held-out splits (data.load_held_out): val and ood on
    their first eval_tokens tokens (the learning curves) and, at the end (final), test whole."""
    return {split: evaluate(model, streams, tok, block_size, batch_size,
                            None if split == "test" else eval_tokens, device, autocast)
            for split, streams in held_out.items() if streams and (final or split != "test")}


def ratio_se(L, B):
    """Standard error of sum(L) / sum(B) over n items (windows, documents): the delta method,
    as for any ratio estimator, sqrt(n / (n - 1) * sum((L_i - R B_i)^2)) / sum(B). NaN for one."""
    n, R = len(L), L.sum() / B.sum()
    return math.sqrt(n / (n - 1) * float(((L - R * B) ** 2).sum())) / B.sum() if n > 1 and B.sum() else float("nan")


# ----------------------------------------------------------------------------- loading a run
def load_run(path, device=DEVICE):
    """(model in eval mode on device, config, tokenizer, device, autocast) of a run directory."""
    import torch

    import kernels
    from scalex import rundir
    from model import build_model
    if not path.endswith(".pt") and not os.path.isdir(path):
        raise ConfigError(f"run: no folder {path}")
    ckpt = path if path.endswith(".pt") else os.path.join(path, "ckpt.pt")
    if not os.path.isfile(ckpt):
        raise ConfigError(f"checkpoint: no file {ckpt}")
    ck = rundir.load_checkpoint(ckpt, map_location="cpu")
    cfg = dict(ck["config"], data_dir=find_data_dir(os.path.dirname(ckpt), ck["config"]))
    try:
        tok = load_tokenizer(cfg["data_dir"])
    except FileNotFoundError:
        raise ConfigError(f"data_dir: the run's tokenizer is not in {cfg['data_dir']} (tokenizer.json, "
                          f"tokenizer.tiktoken); prepare that data dir again or copy it there") from None
    model = build_model(cfg["model"], ck["padded_vocab"], cfg["block_size"], **cfg["model_args"])
    model.load_state_dict(ck["model"])
    if device not in ("auto", "cpu") and not (device.startswith("cuda") and torch.cuda.is_available()):
        raise ConfigError(f"--device: '{device}' is not available here; use auto, cpu or cuda (on a machine with a GPU)")
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    kernels.set_backend("auto")
    model.to(dev).eval()
    bf16 = resolve_dtype(cfg.get("dtype", "auto"), dev) == "bfloat16"  # as train.py resolves it here
    autocast = torch.autocast(dev.split(":")[0], dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    return model, cfg, tok, dev, autocast


def find_data_dir(run_dir, cfg):
    """A run's data dir from wherever eval.py runs: a relative data_dir is relative to the
    directory the run was started in (config.json's cwd, or the folder holding out_dir);
    the one whose manifest hash the run recorded wins."""
    d = cfg["data_dir"]
    rec_path = os.path.join(run_dir, "config.json")
    rec = read_json(rec_path, "the run record is damaged") if os.path.isfile(rec_path) else {}
    parts = os.path.normpath(os.path.join(cfg["out_dir"], cfg["run_name"])).split(os.sep)
    here = os.path.abspath(run_dir).split(os.sep)
    started = rec.get("cwd") and os.path.join(run_dir, rec["cwd"])  # relative to the run dir (or absolute, older runs)
    roots = [os.getcwd(), started] + ([os.sep.join(here[:-len(parts)])] if here[-len(parts):] == parts else [])
    found = [c for c in dict.fromkeys(os.path.join(r, d) for r in roots if r) if os.path.isfile(os.path.join(c, "manifest.json"))]
    want = rec.get("data_manifest", {}).get("sha256")
    for c in found:
        m = data.load_manifest(c)  # also refuses a tokenizer that is not the shards' own
        if want is None or want in (m["sha256"], m["file_sha256"]):
            return c
    if found:
        raise ConfigError(f"data_dir: {found[0]} holds other data than {run_dir} was trained on (its shards or tokenizer "
                          f"differ); delete it and prepare it again with the run's data config (the same data is recognised by content)")
    raise ConfigError(f"data_dir: cannot find the run's data '{d}' from here; run eval.py in the directory the run was "
                      f"trained in ({os.path.normpath(started) if started else 'unknown'})")


def evaluate_checkpoint(path, max_tokens=None):
    """{split: {language: loss, bits/byte, ...}} on the run's own held-out splits, as train.py's
    final evaluation scores them (val and ood up to eval_tokens or max_tokens, test whole)."""
    model, cfg, tok, dev, autocast = load_run(path)
    held = data.load_held_out(cfg["data_dir"], data.load_manifest(cfg["data_dir"]), cfg["budget"])
    return evaluate_held_out(model, held, tok, cfg["block_size"], cfg["batch_size"],
                             max_tokens or cfg["eval_tokens"], dev, autocast)


# ----------------------------------------------------------------------------- bpb on any text
def read_texts(path):
    """Documents of a .txt (blank-line separated), .jsonl, .jsonl.gz or .parquet file (field text)."""
    from scalex import sources
    if not os.path.isfile(path):
        raise ConfigError(f"--text: no such file '{path}'")
    if not path.endswith(sources.TEXT_EXTS):
        raise ConfigError(f"--text: '{path}' is not .txt, .jsonl, .jsonl.gz or .parquet")
    try:
        docs = list(sources.iter_documents("local", [path]))
    except ConfigError as e:
        raise ConfigError("--text: " + str(e).removeprefix("languages: ")) from None
    if not docs:
        raise ConfigError(f"--text: '{path}' holds no non-empty text")
    return docs


def bits_per_byte(model, tok, docs, lang, block_size, batch_size, device, autocast, max_tokens=None):
    """score_stream of documents, each tokenised with the run's tokenizer and ended by
    end-of-text (as in training), after one end-of-text: the held-out splits' definition."""
    if tok.meta["variant"] == "disjoint" and lang not in tok.offsets:
        raise ConfigError(f"--lang: '{lang}' is not a language of this run's disjoint tokenizer ({', '.join(tok.offsets)})")
    ids, _ = tok.encode_docs(docs, lang if lang in tok.offsets else next(iter(tok.offsets)))
    stream = np.concatenate([[tok.meta["eot"] + tok.offsets.get(lang, 0)], ids])
    return {"lang": lang, **score_stream(model, stream, tok.token_bytes(), eot_ids(tok), block_size,
                                         batch_size, device, autocast, max_tokens)}


def update_json(path, entries, under=None):
    """Add or replace entries of a run's result file (inside its `under` dict if given),
    keeping every other entry; a torn file is one line naming it."""
    obj = read_json(path, "delete it and score the run again") if os.path.isfile(path) else {}
    (obj.setdefault(under, {}) if under else obj).update(entries)
    write_json(path, obj)


def cmd_bpb(run, over, docs=None):
    if "text" not in over or "lang" not in over:
        raise ConfigError("bpb: give --text=FILE and --lang=LANG (e.g. --text=ood.jsonl --lang=zh)")
    docs = docs or read_texts(over["text"])
    model, cfg, tok, dev, autocast = load_run(run, over.get("device", DEVICE))
    res = bits_per_byte(model, tok, docs, over["lang"], cfg["block_size"], over.get("batch_size", BATCH_SIZE), dev,
                        autocast, over.get("max_tokens"))
    name = over.get("name") or os.path.basename(over["text"]).split(".")[0]
    if os.path.isdir(run):
        entry = {"lang": res["lang"], "bpb": res["bpb"], "se": res["bpb_se"], "tokens": res["tokens"],
                 "bytes": res["bytes"]}
        update_json(os.path.join(run, "bpb_extra.json"), {name: entry})
    return name, res


def print_bpb(name, r):
    print(f"{name} ({r['lang']}): loss {r['loss']:.4f} nats/token, {r['bpb']:.4f} ± {r['bpb_se']:.4f} bits/byte (se over "
          f"{r['docs']:,} documents), {r['tokens']:,} tokens, {r['bytes']:,} bytes")


# ----------------------------------------------------------------------------- multiple choice
def cmd_tasks(run, task_sets, over):
    """Score every task on one run; write (merge into) RUN/downstream.json."""
    from scalex import tasks
    model, cfg, tok, dev, autocast = load_run(run, over.get("device", DEVICE))
    results = {}
    for name, examples in task_sets.items():
        results.update(tasks.evaluate(model, tok, name, examples, cfg["block_size"], over.get("batch_size", BATCH_SIZE),
                                      dev, autocast))
    if os.path.isdir(run):
        update_json(os.path.join(run, "downstream.json"), results, under="tasks")
    return results


def finished_runs(root):
    """Run directories below root that finished (summary.json) and kept their checkpoint."""
    out = []
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        if "summary.json" in files and "ckpt.pt" in files:
            out.append(dirpath)
    return out


def cmd_downstream(root, over):
    """Every finished run below root: tasks -> downstream.json, --text sets -> bpb_extra.json,
    then root/accuracy.md with one row per run."""
    from scalex import tasks
    if not os.path.isdir(root):
        raise ConfigError(f"downstream: no folder {root}")
    runs = finished_runs(root)
    if not runs:
        raise ConfigError(f"downstream: no finished run (summary.json + ckpt.pt) below {root}")
    task_sets = tasks.load_tasks(over["tasks"]) if over.get("tasks") else {}
    texts = []
    for spec in filter(None, str(over.get("text", "")).split(",")):
        lang, sep, path = spec.partition(":")
        if not sep:
            raise ConfigError(f"--text: '{spec}' is not LANG:FILE (e.g. --text=zh:ood.jsonl)")
        texts.append((lang, path, read_texts(path)))
    if not task_sets and not texts:
        raise ConfigError("downstream: give --tasks=NAME_OR_FILE,... and/or --text=LANG:FILE,...")
    table = {}
    for run in runs:
        print(f"== {run}", file=sys.stderr)
        table[run] = cmd_tasks(run, task_sets, over) if task_sets else {}
        for lang, path, docs in texts:
            name, res = cmd_bpb(run, {**over, "text": path, "lang": lang}, docs)
            print_bpb(name, res)
    md = accuracy_table(root, table)
    path = os.path.join(root, "accuracy.md")
    atomic_write(path, lambda f: f.write(f"# Downstream accuracy: {root}\n\n{md}\n"), mode="w")
    return md, path


def accuracy_table(root, table):
    """Markdown: one row per run, per task acc_norm (and raw acc) with its 95% interval."""
    names = sorted({t for res in table.values() for t in res})
    if not names:
        return "(no tasks scored)"
    lines = ["| run | " + " | ".join(f"{t} ({next(r[t]['lang'] for r in table.values() if t in r)}, "
                                    f"n={next(r[t]['n'] for r in table.values() if t in r)})" for t in names) + " |",
             "|---|" + "---:|" * len(names)]
    for run, res in table.items():
        cells = [(f"**{r['acc_norm']:.3f}** [{r['acc_norm_ci95'][0]:.3f}, {r['acc_norm_ci95'][1]:.3f}] / {r['acc']:.3f}"
                  if (r := res.get(t)) else "") for t in names]
        lines.append(f"| {os.path.relpath(run, root)} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: **accuracy with choices scored by log-likelihood per byte** [95% Wilson interval] / "
              "accuracy by raw log-likelihood. Two runs differ only where their intervals do not overlap "
              "(and the seed spread, not shown here, is smaller than the gap)."]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- sampling
def sample(model, tok, prompt, lang, block_size, device, max_new_tokens=200, temperature=0.8, top_k=50, seed=0):
    """Text continuing `prompt`, drawn token by token from the model (no key-value cache: the
    window is recomputed each step, which is plenty fast for models this size). The same seed
    gives the same text on the same device; temperature 0 is greedy."""
    import torch
    off = tok.offsets.get(lang, 0)
    ids = [tok.meta["eot"] + off] + [i + off for i in tok.enc.encode_ordinary(prompt)]
    gen = torch.Generator(device="cpu").manual_seed(seed)
    # ids this language can produce: its own block of a disjoint vocabulary, no padding rows
    allowed = torch.zeros(model.config.vocab_size, dtype=torch.bool)
    allowed[off:off + tok.base_vocab] = True
    new = model.generate(ids, max_new_tokens, temperature, top_k, allowed, stop=tok.meta["eot"] + off, generator=gen)
    return tok.decode(new)


def cmd_sample(run, over):
    if "prompt" not in over:
        raise ConfigError('sample: give --prompt="..." (it may be empty: --prompt=)')
    model, cfg, tok, dev, _ = load_run(run, over.get("device", DEVICE))
    lang = over.get("lang", cfg.get("lrl", "zh"))
    text = sample(model, tok, str(over["prompt"] if over["prompt"] is not True else ""), lang, cfg["block_size"], dev,
                  int(over.get("max_new_tokens", 200)), float(over.get("temperature", 0.8)), int(over.get("top_k", 50)),
                  int(over.get("seed", 0)))
    return text


# ----------------------------------------------------------------------------- the command line
OPTIONS = Table(  # every option of every command, typed once
    ("eval_tokens", None, Int(1), "a run's val and ood splits: tokens per language (default: the "
     "run's eval_tokens; test: whole)"),
    ("text", "", Str(), "bpb: a text file (.txt .jsonl .jsonl.gz .parquet); downstream: LANG:FILE,..."),
    ("lang", "", Str(), "the language of --text (bpb), of the sample, or the export's"),
    ("name", "", Str(), "bpb: the name the result is saved under (default: the file's)"),
    ("max_tokens", None, Int(1), "bpb: score at most this many tokens"),
    ("device", DEVICE, Str(), "auto: cuda when present, else cpu"),
    ("batch_size", BATCH_SIZE, Int(1), "windows (bpb) or choices (tasks) per forward pass"),
    ("tasks", "", Str(), "task names or .jsonl files, comma-separated (tasks.py)"),
    ("prompt", "", T("a string (it may be empty: --prompt=)", lambda v: isinstance(v, str) or v is True), "sample: the prompt"),
    ("max_new_tokens", 200, Int(0), "sample: tokens to generate"),
    ("temperature", 0.8, Num(0), "sample: 0 is greedy"),
    ("top_k", 50, Int(1), "sample: keep the k most likely tokens"),
    ("seed", 0, Int(0, 2 ** 63), "sample: the sampling seed"),
    ("out", "", Str(), "report: the Markdown file to write (default ROOT/report.md; plots beside it)"),
    ("readme", "", Str(), "report: a Markdown file whose answer block is replaced by the report's"),
    prefix="--")
USES = {"run": {"eval_tokens"}, "bpb": {"text", "lang", "name", "max_tokens", "device", "batch_size"},
        "tasks": {"tasks", "device", "batch_size"}, "downstream": {"tasks", "text", "device", "batch_size"},
        "sample": {"prompt", "lang", "max_new_tokens", "temperature", "top_k", "seed", "device"},
        "export": {"lang"}, "report": {"out", "readme"}, "plot": set()}


def check_options(cmd, over):
    """Every option of a command is one it reads, well typed, before a run is loaded."""
    for k in set(over) - USES[cmd]:
        what = "a run's held-out splits" if cmd == "run" else cmd
        raise ConfigError(f"{what}: unknown option --{k}; known: {', '.join(sorted(USES[cmd])) or 'none'}")
    OPTIONS.check(over)


def check_report_out(root, out, readme):
    """report writes OUT (default ROOT/report.md), runs.csv and its plots beside it, never over
    a file of the user's: only our own earlier report (it starts with '# Report: ') and its
    files; --readme must already hold an answer block to replace."""
    from scalex import report
    key, out = "--out" if out else "report", out or os.path.join(root, "report.md")
    folder = os.path.dirname(out) or "."
    if not os.path.isdir(folder):
        raise ConfigError(f"{key}: no folder {folder} for {out}; create it or give another --out")
    ours = os.path.isfile(out) and open(out, "rb").read(10) == b"# Report: "
    foreign = out if os.path.exists(out) and not ours else None
    mine = [p for p in os.listdir(folder) if p == "runs.csv" or p.startswith("report") and p.endswith(".png")]
    if foreign or mine and not ours and key == "--out":
        raise ConfigError(f"{key}: {foreign or os.path.join(folder, mine[0])} exists and is not of a report this program "
                          f"wrote; give --out in another folder, or move the file")
    if readme:
        text = open(readme, encoding="utf-8").read() if os.path.isfile(readme) else ""
        if report.BEGIN not in text or report.END not in text:
            raise ConfigError(f"--readme: {readme} has no answer block ({report.BEGIN} ... {report.END}) "
                              f"to replace; add the two lines where the answer goes")


def main(argv):
    try:
        pos, over = parse_args(argv)
        if over.get("help"):
            print(__doc__.strip())
            return 0
        cmd = pos[0] if pos else ""
        kind = cmd if cmd in USES and cmd != "run" else "run" if len(pos) == 1 else None
        if kind:
            check_options(kind, over)
        if len(pos) == 2 and pos[0] == "report":
            from scalex import report
            check_report_out(pos[1], over.get("out"), over.get("readme"))
            text, md, pngs = report.report(pos[1], over.get("out"))
            if over.get("readme"):
                report.sync_readme(over["readme"], text, os.path.relpath(os.path.dirname(os.path.abspath(md)),
                                                                         os.path.dirname(os.path.abspath(over["readme"]))) + "/")
            print(text)
            print(f"wrote {md} and {', '.join(pngs)}")
            return 0
        if len(pos) == 2 and pos[0] == "plot":
            from scalex import plots
            print(f"wrote {plots.plot_run(pos[1])}")
            return 0
        # ---- using a run: bpb, tasks, downstream, sample, export (tasks.py, export.py)
        if cmd == "bpb" and len(pos) == 2:
            print_bpb(*cmd_bpb(pos[1], over))
            return 0
        if cmd == "tasks" and len(pos) == 2:
            from scalex import tasks
            if not over.get("tasks"):
                raise ConfigError("tasks: give --tasks=NAME_OR_FILE,... (loaders: " + ", ".join(tasks.LOADERS) + ")")
            res = cmd_tasks(pos[1], tasks.load_tasks(over["tasks"]), over)
            print(accuracy_table(os.path.dirname(pos[1].rstrip("/")) or ".", {pos[1]: res}))
            return 0
        if cmd == "downstream" and len(pos) == 2:
            md, path = cmd_downstream(pos[1], over)
            print(md + f"\n\nwrote {path}")
            return 0
        if cmd == "sample" and len(pos) == 2:
            print(cmd_sample(pos[1], over))
            return 0
        if cmd == "export" and len(pos) == 3:
            from scalex import export
            export.check_out_dir(pos[2])
            model, cfg, tok, _, _ = load_run(pos[1], "cpu")
            run_dir = pos[1] if os.path.isdir(pos[1]) else os.path.dirname(pos[1])
            print(export.export(model, cfg, tok, pos[2], over.get("lang"), run_dir))
            return 0
        if len(pos) == 1 and cmd not in ("report", "bpb", "tasks", "downstream", "sample", "export"):  # a run's own val split
            res = evaluate_checkpoint(pos[0], over.get("eval_tokens"))
            print(f"{'split':<6}{'language':<10}{'loss (nats/token)':>20}{'bits/byte':>12}{'± se':>9}"
                  f"{'tokens':>12}{'docs':>7}")
            for split, by_lang in res.items():
                for lang, r in by_lang.items():
                    print(f"{split:<6}{lang:<10}{r['loss']:>20.4f}{r['bpb']:>12.4f}{r['bpb_se']:>9.4f}"
                          f"{r['tokens']:>12,}{r['docs']:>7,}")
            return 0
    except (ConfigError, OSError) as e:
        fail(e)
    fail(f"command: give RUN_DIR, or report, plot, bpb, tasks, downstream, sample, export; got {' '.join(map(str, pos)) or 'nothing'}; see `python eval.py --help`")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
