"""benchmarks/bench_verdict_synth.py on 3 small held-out statues: the structure of its output
(the numbers are the benchmark's job, not this test's)."""

import numpy as np


def test_the_verdict_benchmark_scores_one_statue_per_group() -> None:
    from benchmarks.bench_verdict_synth import GROUPS, SIDES, evaluate, render_all, seeds
    from benchmarks.verdict_report import failures, report, to_json

    jobs = seeds(3)
    assert [g for _, g in jobs] == list(GROUPS) and all(s >= 2_000_000 for s, _ in jobs)
    cases = render_all(jobs, size=128, workers=1, cache=None)
    intact, one, both = cases
    assert not intact.lost.any() and set(intact.levels.values()) == {"none"}
    assert sum(v != "none" for v in one.levels.values()) == 1
    assert "none" not in both.levels.values()
    assert {both.truth(s) for s in SIDES} <= {"missing_forearm", "missing_arm"}

    rows = evaluate(cases, "statue-net", "statue-net")
    states = {"present", "unsure", "missing_forearm", "missing_arm", "error"}
    for row in rows:
        assert set(row.states) == set(SIDES) and set(row.states.values()) <= states
        assert row.region is not None and row.region.shape == row.case.image.shape[:2]
        assert 0.0 <= row.changed <= 1.0 and row.seconds > 0
        if not row.error:
            assert set(row.evidence["left"]) >= {"upper_on_statue", "fore_on_statue"}
            assert set(row.oracle) == set(row.ideal) == set(SIDES)
            assert 0.0 <= row.seg_iou <= 1.0
    text = report(rows, "test", max_failures=5)
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table[1:5]] == [f"| {g}" for g in (*GROUPS, "all")]
    assert "Wrong verdicts" in text and all(isinstance(f, str) for f in failures(rows))
    dumped = to_json(rows)
    assert [d["group"] for d in dumped] == list(GROUPS)
    assert np.isfinite([d["changed"] for d in dumped]).all()
