"""
Use trained runs: score them, sample from them, export them.

    python eval.py runs/quickstart/scalex/scalex-en200000-s1337   RUN's per-language val loss and bits/byte
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
"""
import contextlib
import math
import os
import sys

import numpy as np

import data
from scalex.configurator import ConfigError, fail, parse_args
from scalex.files import atomic_write, read_json, write_json
from scalex.schema import Int, Num, Str, T, Table
from scalex.tokenizer import load_tokenizer

DEVICE = "auto"     # auto: cuda when present, else cpu
BATCH_SIZE = 16     # windows (bpb) or choices (tasks) per forward pass


# ----------------------------------------------------------------------------- bits per byte
# Bits per UTF-8 byte, not loss per token: the languages' tokenizers split text differently
# (a Chinese character is 1-3 tokens, an English word 1-2), so only bytes compare across
# languages and tokenizers (the joint and disjoint ablation).
def evaluate(model, val_streams, token_bytes, block_size, batch_size, max_tokens, device, autocast):
    """Per language: mean loss (nats/token) and bits per UTF-8 byte over non-overlapping
    windows of the first max_tokens validation tokens; every window is scored whole.
    bpb_se is the standard error of bpb as a ratio estimator over windows (sum of bits over
    sum of bytes): how much one run's bpb would move on another val sample of the same size
    (claims compare runs on the same windows, paired by seed, so they use the seed spread)."""
    import torch
    out = {}
    was_training = model.training
    model.eval()
    for lang, toks in val_streams.items():
        n = min(len(toks), max_tokens + 1)
        nw = max(1, (n - 1) // block_size)
        win_loss, win_bytes = [], []
        for b0 in range(0, nw, batch_size):
            ws = range(b0, min(nw, b0 + batch_size))
            arr = np.stack([np.asarray(toks[w * block_size: w * block_size + block_size + 1], dtype=np.int64) for w in ws])
            x, y = torch.from_numpy(arr[:, :-1]).to(device), torch.from_numpy(arr[:, 1:]).to(device)
            with torch.no_grad(), autocast:
                losses = model(x, y)
            win_loss.append(losses.double().sum(dim=1).cpu().numpy())
            win_bytes.append(token_bytes[arr[:, 1:]].sum(axis=1))
        wl, wb = np.concatenate(win_loss) / math.log(2), np.concatenate(win_bytes).astype(np.float64)
        bpb = wl.sum() / max(1.0, wb.sum())
        se = ratio_se(wl, wb)  # NaN for one window: no error is measured, not a zero one
        out[lang] = {"loss": float(wl.sum() * math.log(2) / (len(wl) * block_size)), "bpb": float(bpb), "bpb_se": se,
                     "tokens": len(wl) * block_size, "bytes": int(wb.sum()), "windows": len(wl)}
    model.train(was_training)
    return out


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
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev.startswith("cuda") else contextlib.nullcontext()
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
    """Per-language loss and bits/byte on the run's own validation split (as train.py does)."""
    model, cfg, tok, dev, autocast = load_run(path)
    manifest = data.load_manifest(cfg["data_dir"])
    val = {lang: data.load_split(cfg["data_dir"], manifest, lang, "val") for lang in cfg["budget"]}
    return evaluate(model, val, tok.token_bytes(), cfg["block_size"], cfg["batch_size"],
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
    """Loss (nats/token) and bits per UTF-8 byte of documents, each tokenised with the run's
    tokenizer and ended by end-of-text (as in training), the stream starting with
    end-of-text so every document token is predicted; scored in non-overlapping windows of
    block_size (the last one partial). `se` is the standard error of bpb over documents: bpb
    is a ratio (bits / bytes) of per-document sums, so its delta-method error is used."""
    import torch

    from tqdm import tqdm
    if tok.meta["variant"] == "disjoint" and lang not in tok.offsets:
        raise ConfigError(f"--lang: '{lang}' is not a language of this run's disjoint tokenizer ({', '.join(tok.offsets)})")
    ids, lengths = tok.encode_docs(docs, lang) if lang in tok.offsets else tok.encode_docs(docs, next(iter(tok.offsets)))
    stream = np.concatenate([[tok.meta["eot"] + tok.offsets.get(lang, 0)], ids])
    doc_of = np.repeat(np.arange(len(lengths)), lengths)  # document of each target token
    n = len(ids) if not max_tokens else min(len(ids), max_tokens)
    token_bytes = tok.token_bytes()
    loss_doc, bytes_doc = np.zeros(len(lengths)), np.zeros(len(lengths))
    starts = list(range(0, n, block_size))
    for b0 in tqdm(range(0, len(starts), batch_size), desc="bpb", unit="batch", leave=False, disable=None):
        rows = starts[b0:b0 + batch_size]
        x = np.zeros((len(rows), block_size), dtype=np.int64)
        y = np.full((len(rows), block_size), -100, dtype=np.int64)
        for i, s in enumerate(rows):
            m = min(block_size, n - s)
            x[i, :m], y[i, :m] = stream[s:s + m], stream[s + 1:s + m + 1]
        with torch.no_grad(), autocast:
            losses = model(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)).double().cpu().numpy()
        for i, s in enumerate(rows):
            m = min(block_size, n - s)
            np.add.at(loss_doc, doc_of[s:s + m], losses[i, :m])
            np.add.at(bytes_doc, doc_of[s:s + m], token_bytes[y[i, :m]])
    scored = doc_of[n - 1] + 1  # documents reached (the last one maybe in part)
    L, B = loss_doc[:scored] / math.log(2), bytes_doc[:scored]
    bpb, se = L.sum() / max(1.0, B.sum()), ratio_se(L, B)
    return {"lang": lang, "loss": float(loss_doc.sum() / n), "bpb": float(bpb), "se": float(se), "tokens": int(n),
            "bytes": int(B.sum()), "docs": int(scored)}


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
        update_json(os.path.join(run, "bpb_extra.json"), {name: {k: res[k] for k in ("lang", "bpb", "se", "tokens", "bytes")}})
    return name, res


def print_bpb(name, r):
    print(f"{name} ({r['lang']}): loss {r['loss']:.4f} nats/token, {r['bpb']:.4f} ± {r['se']:.4f} bits/byte (se over "
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
    ("eval_tokens", None, Int(1), "a run's val split: tokens per language (default: the run's eval_tokens)"),
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
        what = "a run's val split" if cmd == "run" else cmd
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
            print(f"{'language':<10}{'val loss (nats/token)':>24}{'bits/byte':>12}{'tokens':>10}")
            for lang, r in res.items():
                print(f"{lang:<10}{r['loss']:>24.4f}{r['bpb']:>12.4f}{r['tokens']:>10,}")
            return 0
    except (ConfigError, OSError) as e:
        fail(e)
    fail(f"command: give RUN_DIR, or report, plot, bpb, tasks, downstream, sample, export; got {' '.join(map(str, pos)) or 'nothing'}; see `python eval.py --help`")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
