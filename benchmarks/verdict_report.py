"""The tables of benchmarks/bench_verdict_synth.py: per group, per break level, the
truth-side diagnostics, the evidence's spread and separating power, the wrong verdicts, and
the rows as JSON. ``rows`` are that script's ``Row`` objects (one restored statue each)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from benchmarks.bench_verdict_synth import Row

GROUPS = ("intact", "one", "both")
LEVEL_STATE = {"elbow": "missing_forearm", "upper": "missing_arm", "shoulder": "missing_arm"}
SIDES = ("left", "right")
CHANGED, DIFF = 0.005, 12
EVIDENCE = ("shoulder_score", "elbow_score", "wrist_score", "upper_on_statue",
            "fore_on_statue", "elbow_depth", "nose_score", "frontal", "upper_length",
            "fore_length")
SHORT = {"shoulder_score": "sh", "elbow_score": "el", "wrist_score": "wr",
         "upper_on_statue": "up_on", "fore_on_statue": "fo_on", "shoulder_on_statue": "sh_on",
         "shoulder_width": "span", "elbow_depth": "el_depth", "nose_score": "nose",
         "frontal": "frontal", "upper_length": "up_len", "fore_length": "fo_len",
         "below_hips": "below_hips"}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _share(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "-"


def group_stats(rows: Sequence[Row]) -> dict[str, object]:
    """The table's numbers for ``rows`` (one group, or all)."""
    miss = [(r, s) for r in rows for s in SIDES if r.case.truth(s) != "present"]
    pres = [(r, s) for r in rows for s in SIDES if r.case.truth(s) == "present"]
    called = sum(r.states[s] in ("missing_forearm", "missing_arm") for r, s in miss)
    exact = sum(r.states[s] == r.case.truth(s) for r, s in miss)
    left_alone = sum(r.states[s] in ("present", "unsure") for r, s in pres)
    broken = [r for r in rows if r.case.group != "intact"]
    intact = [r for r in rows if r.case.group == "intact"]
    restored = [r for r in broken if r.region is not None and r.region.any()]
    repainted = {id(r): {s for s in SIDES if r.states[s] in ("missing_forearm", "missing_arm")}
                 for r in restored}
    truly = {id(r): {s for s in SIDES if r.case.truth(s) != "present"} for r in broken}
    right = sum(repainted[id(r)] <= truly[id(r)] for r in restored)
    every = sum(repainted[id(r)] == truly[id(r)] for r in restored)
    ious = [iou(r.region, r.case.lost) if r.region is not None else 0.0 for r in broken]
    cover = [float((r.region & r.case.lost).sum() / max(1, r.case.lost.sum()))
             if r.region is not None else 0.0 for r in broken]
    done = [i for i, r in zip(ious, broken, strict=True) if id(r) in repainted]
    return {
        "statues": len(rows), "errors": sum(bool(r.error) for r in rows),
        "missing": _share(called, len(miss)), "exact": _share(exact, len(miss)),
        "alone": _share(left_alone, len(pres)),
        "present": _share(sum(r.states[s] == "present" for r, s in pres), len(pres)),
        "unsure": _share(sum(r.states[s] == "unsure" for r, s in pres), len(pres)),
        "intact_changed": _share(sum(r.changed > CHANGED for r in intact), len(intact)),
        "pixels": f"{np.mean([r.changed for r in rows]):.2%}" if rows else "-",
        "restored": _share(len(restored), len(broken)),
        "right": f"{right} / {every}" if broken else "-",
        "iou": (f"{np.mean(ious):.3f} / " + (f"{np.mean(done):.3f}" if done else "-")
                + f" / {np.mean(cover):.2f}") if broken else "-",
        "seconds": f"{np.mean([r.seconds for r in rows]):.3f}" if rows else "-",
    }


HEADER = ("| group | statues | missing arms called missing | ... exact level | present arms "
          "left alone (present or unsure) | ... present | ... unsure | intact changed > 0.5 % | "
          "pixels changed, mean | broken restored | ... right side only / every broken arm | "
          "repaint IoU: all broken / restored ones; truth covered | s per statue |")


def table(rows: Sequence[Row]) -> str:
    """Markdown table: one line per group and one for all."""
    lines = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    for name in (*GROUPS, "all"):
        rs = [r for r in rows if name in ("all", r.case.group)]
        g = group_stats(rs)
        err = f" ({g['errors']} errors)" if g["errors"] else ""
        lines.append(
            f"| {name} | {g['statues']}{err} | {g['missing']} | {g['exact']} | {g['alone']} | "
            f"{g['present']} | {g['unsure']} | {g['intact_changed']} | {g['pixels']} | "
            f"{g['restored']} | {g['right']} | {g['iou']} | {g['seconds']} |")
    return "\n".join(lines)


def level_table(rows: Sequence[Row]) -> str:
    """Verdict counts per true state of an arm (break level for missing ones)."""
    states = ("present", "unsure", "missing_forearm", "missing_arm", "error")
    out = ["| truth (break level) | arms | " + " | ".join(states) + " |",
           "|---|---|" + "---|" * len(states)]
    for level in ("none", "elbow", "upper", "shoulder"):
        got = [r.states[s] for r in rows for s in SIDES if r.case.levels[s] == level]
        label = "present" if level == "none" else f"{LEVEL_STATE[level]} ({level})"
        out.append(f"| {label} | {len(got)} | "
                   + " | ".join(str(got.count(st)) for st in states) + " |")
    return "\n".join(out)


def diagnostics_table(rows: Sequence[Row]) -> str:
    """Why: segmentation quality, the verdicts on the true mask, where the joints were put."""
    out = ["| group | figure mask IoU | missing arms called missing: true pose + true mask "
           "(ideal) | ... backend pose + true mask | present arms called missing: ideal | ... "
           "backend pose + true mask | elbow / wrist error of missing arms | ... of present "
           "arms |", "|---|---|---|---|---|---|---|---|"]
    for name in (*GROUPS, "all"):
        rs = [r for r in rows if name in ("all", r.case.group) and not r.error]
        miss = [(r, s) for r in rs for s in SIDES if r.case.truth(s) != "present" and r.oracle]
        pres = [(r, s) for r in rs for s in SIDES if r.case.truth(s) == "present" and r.oracle]
        said = ("missing_forearm", "missing_arm")

        def err(arms: list[tuple[Row, str]]) -> str:
            if not arms:
                return "-"
            e = np.array([r.joint_error[s] for r, s in arms])
            return f"{np.nanmedian(e[:, 0]):.2f} / {np.nanmedian(e[:, 1]):.2f}"

        iou = f"{np.nanmean([r.seg_iou for r in rs]):.3f}" if rs else "-"
        out.append(f"| {name} | {iou} | "
                   f"{_share(sum(r.ideal[s] in said for r, s in miss), len(miss))} | "
                   f"{_share(sum(r.oracle[s] in said for r, s in miss), len(miss))} | "
                   f"{_share(sum(r.ideal[s] in said for r, s in pres), len(pres))} | "
                   f"{_share(sum(r.oracle[s] in said for r, s in pres), len(pres))} | "
                   f"{err(miss)} | {err(pres)} |")
    return "\n".join(out)


def _arms(rows: Sequence[Row]) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Evidence of (truly missing, truly present) arms."""
    miss: list[dict[str, float]] = []
    pres: list[dict[str, float]] = []
    for r in rows:
        for s in SIDES:
            if s in r.evidence:
                (miss if r.case.truth(s) != "present" else pres).append(r.evidence[s])
    return miss, pres


def separation_table(rows: Sequence[Row]) -> str:
    """How well each evidence number alone tells missing from present arms: AUC (0.5 =
    none), the direction, and the share of missing arms caught at thresholds that flag no
    present arm, and 5 % of them."""
    miss, pres = _arms(rows)
    out = ["| evidence | AUC | missing arms have | caught, 0 present flagged | "
           "caught, 5 % present flagged |", "|---|---|---|---|---|"]
    if not miss or not pres:
        return "\n".join(out + ["| (needs missing and present arms) | | | | |"])
    for name in EVIDENCE:
        m = np.array([e[name] for e in miss])
        p = np.array([e[name] for e in pres])
        auc = float((m[:, None] > p[None, :]).mean() + 0.5 * (m[:, None] == p[None, :]).mean())
        low = auc < 0.5  # missing arms have lower values: flag values below a threshold
        mm, pp = (-m, -p) if low else (m, p)
        t0, t5 = pp.max(), np.quantile(pp, 0.95)
        c0, c5 = int((mm > t0).sum()), int((mm > t5).sum())
        sign, word = ("<", "lower") if low else (">", "higher")
        out.append(f"| {name} | {max(auc, 1 - auc):.3f} | {word} | "
                   f"{c0}/{len(m)} ({sign} {abs(t0):.2f}) | "
                   f"{c5}/{len(m)} ({sign} {abs(t5):.2f}) |")
    return "\n".join(out)


def evidence_table(rows: Sequence[Row]) -> str:
    """Median [10th-90th percentile] of each evidence number for four kinds of arm."""
    kinds: dict[str, list[dict[str, float]]] = {
        "present, left alone": [], "present, called missing": [],
        "missing, called missing": [], "missing, left alone": []}
    for r in rows:
        for s in SIDES:
            if s not in r.evidence:
                continue
            truly = r.case.truth(s) != "present"
            said = r.states[s] in ("missing_forearm", "missing_arm")
            key = f"{'missing' if truly else 'present'}, " + (
                "called missing" if said else "left alone")
            kinds[key].append(r.evidence[s])
    head = "| evidence | " + " | ".join(f"{k} (n={len(v)})" for k, v in kinds.items()) + " |"
    out = [head, "|---|" + "---|" * len(kinds)]
    for name in EVIDENCE:
        cells = []
        for ev in kinds.values():
            if not ev:
                cells.append("-")
                continue
            q = np.quantile([e[name] for e in ev], [0.1, 0.5, 0.9])
            cells.append(f"{q[1]:.2f} [{q[0]:.2f}-{q[2]:.2f}]")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def failures(rows: Sequence[Row]) -> list[str]:
    """One line per wrong verdict: a missing arm left alone, a present arm called missing.

    After the evidence (truth, not evidence): ``ideal`` = the verdict of the true keypoints on
    the true mask, ``true_mask`` = the backend pose's verdict on the true mask, ``err`` = the
    elbow / wrist distance from the intact statue's, in shoulder widths.
    """
    lines = []
    for r in rows:
        for s in SIDES:
            truth, got = r.case.truth(s), r.states[s]
            wrong = (got in ("present", "unsure", "error")) if truth != "present" else (
                got in ("missing_forearm", "missing_arm", "error"))
            if not wrong:
                continue
            if r.error:
                lines.append(f"{r.case.seed} {r.case.group:6s} {s:5s} truth={truth} "
                             f"error: {r.error}")
                continue
            e = r.evidence[s]
            ev = " ".join(f"{SHORT.get(k, k)}={float(v):.2f}" for k, v in e.items())
            both = " ".join(f"{x[0]}:{r.states[x]}" for x in SIDES)
            level = f" ({r.case.levels[s]})" if truth != "present" else ""
            extra = ""
            if r.oracle:
                je = r.joint_error[s]
                extra = (f" | ideal={r.ideal[s]} true_mask={r.oracle[s]} "
                         f"err={je[0]:.2f}/{je[1]:.2f}")
            lines.append(f"{r.case.seed} {r.case.group:6s} {s:5s} truth={truth}{level} "
                         f"got={got} [{both}] {ev}{extra}")
    return lines


def report(rows: Sequence[Row], title: str, max_failures: int) -> str:
    fails = failures(rows)
    shown = fails[:max_failures]
    more = f"\n... {len(fails) - len(shown)} more" if len(fails) > len(shown) else ""
    return (f"\n### {title}\n\n{table(rows)}\n\n{level_table(rows)}\n\n"
            f"Diagnostics (truth-side, untimed):\n\n{diagnostics_table(rows)}\n\n"
            f"Evidence, median [10th-90th percentile]:\n\n{evidence_table(rows)}\n\n"
            f"Each evidence number alone, missing vs present arms:\n\n"
            f"{separation_table(rows)}\n\n"
            f"Wrong verdicts ({len(fails)}):\n\n```\n" + "\n".join(shown) + more + "\n```")


def to_json(rows: Sequence[Row]) -> list[dict[str, object]]:
    """Per statue: truth, verdicts, evidence, diagnostics (for tuning the rule offline)."""
    return [{"seed": r.case.seed, "group": r.case.group, "levels": r.case.levels,
             "truth": {s: r.case.truth(s) for s in SIDES}, "verdicts": r.states,
             "evidence": r.evidence, "true_mask_verdicts": r.oracle, "ideal_verdicts": r.ideal,
             "joint_error": r.joint_error, "seg_iou": r.seg_iou, "changed": r.changed,
             "repainted_px": int(r.region.sum()) if r.region is not None else 0,
             "repaint_iou": iou(r.region, r.case.lost) if r.region is not None else 0.0,
             "lost_px": int(r.case.lost.sum()), "seconds": r.seconds, "error": r.error}
            for r in rows]
