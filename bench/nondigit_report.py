"""What ``bench.nondigits`` reports for one method at one threshold: how many of each set it refuses, per image
(``nondigit_sets.refused``), and the compact table it prints."""
from __future__ import annotations

import numpy as np

from bench import nondigit_sets as sets
from digits.nondigit import nondigits
from digits.synthetic import photos

Scores = dict[str, dict[str, np.ndarray]]  # set → method → one score per field


def rate(flags: np.ndarray) -> float:
    return round(float(np.mean(flags)), 4) if len(flags) else 0.0


def nondigit_rates(flags: np.ndarray, p: sets.Pieces) -> dict:
    """Refused non-digits: without the look-alikes (the target's count), all, the look-alikes, and by kind."""
    look, kind = p.meta["lookalike"], p.meta["kind"]
    return {"refused": rate(flags[~look]), "refused_with_lookalikes": rate(flags), "lookalikes": rate(flags[look]),
            "blank_by_reading": rate(p.unread[~look] == "blank"),
            "by_kind": {k: rate(flags[(kind == k) & ~look]) for k in nondigits.KINDS}}


def wild_rates(flags: np.ndarray, p: sets.Pieces) -> dict:
    by = {f"{s}/{c}": rate(flags[(p.meta["set"] == s) & (p.meta["condition"] == c)])
          for s in photos.SETS for c in photos.CONDITIONS}
    return {"refused": rate(flags), "by_set_condition": by}


def by_pieces(flags: np.ndarray, p: sets.Pieces) -> dict:
    """Refused digits among those read as one piece, and among those the reading cut into several (a number
    already: a wrong answer, refused or not)."""
    several = np.bincount(p.owner, minlength=len(p.unread)) > 1
    return {"one_piece": rate(flags[~several]), "several_pieces": rate(flags[several]),
            "several_pieces_images": int(several.sum())}


def by_detail(flags: np.ndarray, p: sets.Pieces) -> dict:
    pairs = sorted(set(zip(p.meta["kind"], p.meta["detail"])))
    return {f"{k}:{d}": rate(flags[(p.meta["kind"] == k) & (p.meta["detail"] == d)]) for k, d in pairs}


def evaluate(scores: Scores, read: dict[str, sets.Pieces], method: str, quantile: float) -> dict:
    """One method at one threshold on every set, the threshold from MNIST's validation digits."""
    s = {name: by_method[method] for name, by_method in scores.items()}
    threshold = float(np.percentile(s["mnist_val"], quantile))
    flag = {name: v > threshold for name, v in s.items()}
    image = {(name, policy): sets.refused(flag[name], read[name], policy) for name in read for policy in sets.POLICIES}
    return {
        "threshold": round(threshold, 6),
        "validation": {"mnist": rate(flag["mnist_val"]),
                       "nondigits": rate(image["nondigits_val", "any"][~read["nondigits_val"].meta["lookalike"]]),
                       "wild": rate(image["wild_val", "any"])},
        "test": {"mnist": rate(flag["mnist_test"]),
                 **{f"mnist_read_{p}": rate(image["mnist_read", p]) for p in sets.POLICIES},
                 "mnist_read_by_pieces": by_pieces(image["mnist_read", "any"], read["mnist_read"]),
                 **{f"numbers_{p}": rate(image["numbers", p]) for p in sets.POLICIES},
                 **{f"nondigits_{p}": nondigit_rates(image["nondigits_test", p], read["nondigits_test"])
                    for p in sets.POLICIES},
                 **{f"wild_{p}": wild_rates(image["wild_test", p], read["wild_test"]) for p in sets.POLICIES}},
    }


def table(model: str, results: dict, quantile: str, chosen: str) -> str:
    columns = ("val nd", "val wild", "|", "MNIST", "read", "read1", "nd", "nd+look", "look", "wild", "num")
    head = (f"{model}: threshold the {quantile}th percentile of MNIST validation digits' scores; an image is "
            f"refused when any piece is\n{'method':22s} " + " ".join(f"{c:>7s}" if c != "|" else c for c in columns))
    rows = []
    for m, r in results.items():
        v, t = r[quantile]["validation"], r[quantile]["test"]
        nd = t["nondigits_any"]
        cells = [v["nondigits"], v["wild"], t["mnist"], t["mnist_read_any"], t["mnist_read_by_pieces"]["one_piece"],
                 nd["refused"], nd["refused_with_lookalikes"], nd["lookalikes"], t["wild_any"]["refused"],
                 t["numbers_any"]]
        text = [f"{c:7.1%}" if i not in (2, 3, 4) else f"{c:7.2%}" for i, c in enumerate(cells)]
        rows.append(f"{m + (' *' if m == chosen else ''):22s} " + " ".join(text[:2] + ["|"] + text[2:]))
    kinds = results[chosen][quantile]["test"]["nondigits_any"]["by_kind"]
    return "\n".join([head, *rows, f"{chosen} by kind: " + ", ".join(f"{k} {v:.0%}" for k, v in kinds.items())])
