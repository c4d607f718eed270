"""The report's progress (issue 18): one line per claim with "k of n", samples done/total and an ETA from measured
per-sample times; plain log lines when the output is not a terminal; nothing printed over a progress line."""

from __future__ import annotations

import io

import pytest

from rmtverify.reports import progress as P


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(P.time, "monotonic", c)
    return c


class Terminal(io.StringIO):
    def isatty(self):
        return True

    def fileno(self):
        raise OSError  # a terminal without a size: plain lines


def test_plain_lines_when_not_a_terminal(clock, capsys):
    d = P.Display(["derive:kappa", "errors", "bbp"], {"derive:kappa": 1, "errors": 2, "bbp": 1}, stream=io.StringIO())
    assert not d.tty
    d.event(("plan", "errors", 100.0, 40))
    for _ in range(40):
        clock.t += 1
        d.event(("done", "errors", 2.5, 0.0, 1))
    d.finish("errors", "errors (C2): PASS — 12/12 sub-tests PASS")
    d.close()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[2 of 3] errors: started"
    assert [line.split(":")[1].split("(")[0].strip() for line in out[1:4]] == ["25%", "50%", "75%"]
    assert "samples 10/40, ETA 30s" in out[1] and "report" in out[1]
    assert out[-1] == "errors (C2): PASS — 12/12 sub-tests PASS" and "\r" not in "".join(out)


def test_unit_eta_comes_from_measured_seconds_per_unit_of_work(clock):
    d = P.Display(["a"], {"a": 1}, stream=io.StringIO())
    d.event(("plan", "a", 10.0, 10))
    d.event(("done", "a", 0.0, 4.0, 4))  # four samples from the cache: no time measured yet
    assert d.units["a"].eta(clock.t) is None
    clock.t = 3.0
    d.event(("done", "a", 3.0, 0.0, 3))  # three computed in 3 s: 1 s per unit of work, 3 left
    assert d.units["a"].eta(clock.t) == pytest.approx(3.0)
    assert d.fraction() == pytest.approx(0.7)


def test_report_eta_after_ten_percent_is_within_thirty_percent_of_the_final_time(clock):
    """Units of different weights and costs, two at a time (as the pool runs them), each at a steady rate, on a machine 1.7×
    slower than the weights say: the report's ETA from 10% of the work on predicts the end within 30% at every step, and
    within 10% from half the work on (the measured speed outweighs the weights' own; the schedule's tail, one unit on two
    workers, is counted)."""
    weights = {"u1": 30, "u2": 20, "u3": 19, "u4": 9.5, "u5": 8, "u6": 1}
    d = P.Display(list(weights), weights, stream=io.StringIO(), quiet=True, jobs=2)
    queue, running, predicted = list(weights), {}, []
    while queue or running:
        while len(running) < 2 and queue:
            u = queue.pop(0)
            d.event(("start", u))
            d.event(("plan", u, 100.0, 100))
            running[u] = 0
        clock.t += 0.17
        for u in list(running):
            running[u] += 1
            d.event(("done", u, 100.0 / (10 * weights[u]), 0.0, 1))  # each unit takes 1.7 × its weight in seconds
            if running[u] >= 10 * weights[u]:
                d.finish(u)
                del running[u]
        if d.fraction() >= 0.1:
            predicted.append((d.fraction(), clock.t + d.eta()))
    assert predicted and max(abs(p - clock.t) for _, p in predicted) <= 0.3 * clock.t, (predicted[0], clock.t)
    assert max(abs(p - clock.t) for f, p in predicted if f >= 0.5) <= 0.1 * clock.t
    assert clock.t == pytest.approx(1.7 * 47, rel=0.01)  # u1 ‖ u2, u3; u4 ‖ u5, u6: 47 expected seconds on two workers


def test_on_a_terminal_results_go_above_the_bars(clock, monkeypatch, capsys):
    monkeypatch.setattr(P, "_terminal_columns", lambda stream: 120)
    term = Terminal()
    d = P.Display(["a", "b"], {"a": 1, "b": 1}, stream=term)
    assert d.tty
    d.event(("plan", "a", 10.0, 10))
    d.event(("done", "a", 5.0, 0.0, 5))
    d.finish("a", "a: PASS — fine")
    d.close()
    drawn = term.getvalue()
    assert "[1 of 2] a |##########          | samples 5/10" in drawn and "report: 0 of 2 units" in drawn
    assert capsys.readouterr().out.splitlines() == ["a: PASS — fine"]  # on its own line, not over a bar


def test_verify_prints_the_claims_progress_in_plain_lines(cli, tmp_path):
    rc, out, err = cli("verify", "examples/minimal_claim.py", "--quick", "--out", tmp_path, "--no-cache")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "[1 of 1] examples/minimal_claim.py: started".replace("examples/minimal_claim.py", "my-claim")
    assert any("%" in line and "samples" in line and "ETA" in line for line in lines[1:-2]), lines
    assert lines[-2].startswith("my-claim: PASS")
