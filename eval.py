"""
Evaluate checkpoints and report runs.

    python eval.py runs/quickstart/scalex-en1200000        per-language val loss and bits/byte
    python eval.py report runs/quickstart                  table (report.md) + plot (report.png)

The report is the paper's central comparison: low-resource bits-per-byte against the
high-resource budget, one line per method. Runs with the same method and budget but other
seeds are averaged, and their spread is shown: a gap smaller than it is noise.
"""
import os
import sys

import data
from configurator import ConfigError, fail, parse_args


def evaluate_checkpoint(path, max_tokens=None):
    import contextlib

    import torch

    import train
    from model import build_model
    ckpt = path if path.endswith(".pt") else os.path.join(path, "ckpt.pt")
    if not os.path.isfile(ckpt):
        raise ConfigError(f"checkpoint: no file {ckpt}")
    ck = train.load_checkpoint(ckpt, map_location="cpu")
    cfg = ck["config"]
    manifest = data.load_manifest(cfg["data_dir"])
    model = build_model(cfg["model"], ck["padded_vocab"], cfg["block_size"], **cfg["model_args"])
    model.load_state_dict(ck["model"])
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(dev)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev == "cuda" else contextlib.nullcontext()
    val = {lang: data.load_split(cfg["data_dir"], manifest, lang, "val") for lang in cfg["budget"]}
    token_bytes = data.load_tokenizer(cfg["data_dir"]).token_bytes()
    return train.evaluate(model, val, token_bytes, cfg["block_size"], cfg["batch_size"], max_tokens or cfg["eval_tokens"], dev, autocast)


def main(argv):
    pos, over = parse_args(argv)
    try:
        if len(pos) == 2 and pos[0] == "report":
            import report
            table, md, png = report.report(pos[1], over.get("out"), over.get("plot"))
            print(table)
            print(f"\nwrote {md} and {png}")
            return 0
        if len(pos) == 1:
            res = evaluate_checkpoint(pos[0], over.get("eval_tokens"))
            print(f"{'language':<10}{'val loss (nats/token)':>24}{'bits/byte':>12}{'tokens':>10}")
            for lang, r in res.items():
                print(f"{lang:<10}{r['loss']:>24.4f}{r['bpb']:>12.4f}{r['tokens']:>10,}")
            return 0
    except ConfigError as e:
        fail(e)
    print(__doc__.strip().splitlines()[2].strip() + "\n" + __doc__.strip().splitlines()[3].strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
