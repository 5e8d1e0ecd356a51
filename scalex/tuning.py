"""
The settings picked from a grid of runs, each picked on val and only on val, so that no set a
verdict reads (test, the out-of-domain text) chooses what it then judges:
- the best LRL-only: lrl_epochs of LRL-only (the grid `epochs` of config/<scale>/sweep.py);
- joint and scalex: lrl_epochs (the same grid), and scalex's stage-2 fraction, at one stated
  HRL size (tune_at); the sweep then trains them at every size at the pick (tuned);
- the LRL-only reference curve of the effective-data multiplier: lrl_epochs at each unique
  LRL budget (multiplier.py).
A choice is a record: what was picked, among which grid, on which column (always "val.LANG"),
with each grid point's mean val bpb and seeds. The report prints every record; a test asserts
that no record read any other column.
"""
from scalex import table

SPLIT = "val"  # the only split a choice reads
GRID = {"joint": ("lrl_epochs",), "scalex": ("lrl_epochs", "stage2_hrl_fraction"),
        "lrl_only_epochs": ("lrl_epochs",)}


def lang_of(p):
    return p["lrls"].split(",")[0]


def choose(cands, what):
    """(the candidate point of lowest mean val bpb, its choice record); (None, None) when no
    candidate has val on every seed."""
    col = f"{SPLIT}.{lang_of(cands[0])}" if cands else None
    scored = [(p, table.mean(p, col)) for p in cands if table.mean(p, col) is not None]
    if not scored:
        return None, None
    best = min(scored, key=lambda x: x[1])[0]
    keys = GRID.get(best["method"], ("lrl_epochs",))
    setting = lambda p: {k: p.get(k) for k in keys}
    rec = {"what": what, "column": col, "picked": setting(best),
           "grid": [{"setting": setting(p), "val": v, "seeds": len(p["seeds"])}
                    for p, v in sorted(scored, key=lambda x: sorted(setting(x[0]).items()))]}
    return best, rec


def pick_rows(rows):
    """(the picked grid settings, the record) of the tune runs of one method at one size: what
    the sweep trains at every size (tuned)."""
    best, rec = choose(table.points(rows), "sweep pick")
    return rec["picked"], rec


def hrl_size(p):
    return p[f"budget.{p['hrl']}"]


def tune_size(pts, dev, method):
    """The HRL size with the most grid points of method (tune_at), or None without a grid."""
    keys = set(GRID[method])
    sizes = [hrl_size(p) for p in pts if p["method"] == method and dev[id(p)] and set(dev[id(p)]) <= keys]
    return max(sorted(set(sizes)), key=sizes.count) if sizes else None


def tuned_view(pts, dev):
    """(deviations, choices) of the tuned comparison (without a tune grid: the untuned one, and
    only the best LRL-only's choice): per method, the point picked on val at its
    tune size, and at every size the point of that setting, is on the main curve (deviation {});
    the method's other grid points leave it. The compute-matched LRL-only runs leave it too
    (their compute is the untuned recipes'): the LRL-only baseline is the best LRL-only, tuned
    on the same kind of grid. Picked points are marked ("picked"), so that claims compare tuned
    with tuned whatever the token counts their picks give."""
    new, choices = dict(dev), []
    for m in ("joint", "scalex"):
        size, keys = tune_size(pts, dev, m), set(GRID[m])
        if size is None:
            continue
        family = [p for p in pts if p["method"] == m and set(dev[id(p)]) <= keys]
        best, rec = choose([p for p in family if hrl_size(p) == size], f"{m} at {size:,}")
        if best is None:
            continue
        choices.append(rec)
        for p in family:
            same = dev[id(p)] == dev[id(best)]
            new[id(p)] = {} if same else {k: p.get(k) for k in GRID[m]}
            p["picked"] = same
    for p in pts if choices else []:  # a tuned comparison: its LRL-only baseline is tuned too
        if p["method"] == "lrl_only" and not dev[id(p)]:
            new[id(p)] = {"compute": "the untuned recipes'"}
    lrl = [p for p in pts if p["method"] == "lrl_only_epochs" and set(dev[id(p)]) <= {"lrl_epochs"}]
    best, rec = choose(lrl, "best LRL-only")
    if best is not None:
        choices.append(rec)
        best["picked"] = True
    return new, choices
