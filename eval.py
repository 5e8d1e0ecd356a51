"""
Evaluate checkpoints and report runs.

    python eval.py runs/quickstart/scalex-en200000-s1337   per-language val loss and bits/byte
    python eval.py report runs/quickstart                  report.md (tables, fits, claims) + plots
    python eval.py plot runs/quickstart/scalex-en200000-s1337   RUN/plot.png: loss and LR curves
    python eval.py --help

The report (report.py) is the paper's central comparison: low-resource bits-per-byte against
the high-resource budget, one line per method, seeds averaged with their spread shown (a gap
smaller than it is noise), a scaling-law fit per method and a computed verdict per claim.
"""
import os
import sys

import data
from configurator import ConfigError, fail, parse_args, read_json


def evaluate_checkpoint(path, max_tokens=None):
    import contextlib

    import torch

    import train
    from model import build_model
    ckpt = path if path.endswith(".pt") else os.path.join(path, "ckpt.pt")
    if not os.path.isfile(ckpt):
        raise ConfigError(f"checkpoint: no file {ckpt}")
    ck = torch.load(ckpt, map_location="cpu", weights_only=False)
    cfg = dict(ck["config"], data_dir=find_data_dir(os.path.dirname(ckpt), ck["config"]))
    manifest = data.load_manifest(cfg["data_dir"])
    model = build_model(cfg["model"], ck["padded_vocab"], cfg["block_size"], **cfg["model_args"])
    model.load_state_dict(ck["model"])
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(dev)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev == "cuda" else contextlib.nullcontext()
    val = {lang: data.load_split(cfg["data_dir"], manifest, lang, "val") for lang in cfg["budget"]}
    token_bytes = data.load_tokenizer(cfg["data_dir"]).token_bytes()
    return train.evaluate(model, val, token_bytes, cfg["block_size"], cfg["batch_size"], max_tokens or cfg["eval_tokens"], dev, autocast)


def find_data_dir(run_dir, cfg):
    """A run's data dir from wherever eval.py runs: a relative data_dir is relative to the
    directory the run was started in (config.json's cwd, or the folder holding out_dir);
    the one whose manifest hash the run recorded wins."""
    d = cfg["data_dir"]
    rec_path = os.path.join(run_dir, "config.json")
    rec = read_json(rec_path, "the run record is damaged") if os.path.isfile(rec_path) else {}
    parts = os.path.normpath(os.path.join(cfg["out_dir"], cfg["run_name"])).split(os.sep)
    here = os.path.abspath(run_dir).split(os.sep)
    roots = [os.getcwd(), rec.get("cwd")] + ([os.sep.join(here[:-len(parts)])] if here[-len(parts):] == parts else [])
    found = [c for c in dict.fromkeys(os.path.join(r, d) for r in roots if r) if os.path.isfile(os.path.join(c, "manifest.json"))]
    want = rec.get("data_manifest", {}).get("sha256")
    for c in found:
        if want is None or data.sha256_file(os.path.join(c, "manifest.json")) == want:
            return c
    if found:
        raise ConfigError(f"data_dir: {found[0]} is not the data {run_dir} was trained on (its manifest changed since); "
                          f"prepare it again with the run's data config")
    raise ConfigError(f"data_dir: cannot find the run's data '{d}' from here; run eval.py in the directory the run was "
                      f"trained in ({rec.get('cwd', 'unknown')})")


def main(argv):
    try:
        pos, over = parse_args(argv)
        if over.get("help"):
            print(__doc__.strip())
            return 0
        if len(pos) == 2 and pos[0] == "report":
            import report
            text, md, pngs = report.report(pos[1], over.get("out"), over.get("bootstrap", report.BOOTSTRAP))
            print(text)
            print(f"wrote {md} and {', '.join(pngs)}")
            return 0
        if len(pos) == 2 and pos[0] == "plot":
            import report
            print(f"wrote {report.plot_run(pos[1])}")
            return 0
        if len(pos) == 1:
            n = over.get("eval_tokens")
            if n is not None and not (isinstance(n, int) and not isinstance(n, bool) and n > 0):
                raise ConfigError(f"--eval_tokens: must be a positive integer, got {n!r}")
            res = evaluate_checkpoint(pos[0], n)
            print(f"{'language':<10}{'val loss (nats/token)':>24}{'bits/byte':>12}{'tokens':>10}")
            for lang, r in res.items():
                print(f"{lang:<10}{r['loss']:>24.4f}{r['bpb']:>12.4f}{r['tokens']:>10,}")
            return 0
    except ConfigError as e:
        fail(e)
    fail(f"command: give RUN_DIR, report DIR or plot RUN, got {' '.join(map(str, pos)) or 'nothing'}; see `python eval.py --help`")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
