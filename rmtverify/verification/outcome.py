"""What a verification produces, as data: the renderer (:mod:`rmtverify.reports.render`) turns it into
Markdown, JSON and figures, the same way for a built-in claim and a user's.

Figures are declared, not drawn: a :class:`Figure` is a grid of :class:`Panel` s, each a list of series
(lines, points with error bars, reference lines, histograms) with axis labels that carry units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --------------------------------------------------------------------------- figures


@dataclass
class Series:
    """One thing drawn in a panel.

    ``kind``: ``line`` (x, y), ``points`` (x, y and optional error bars ``err``), ``hline`` (y[0]),
    ``vline`` (x[0]), ``hist`` (x = the values, ``bins``), ``mesh`` (values ``z`` on the grid x × y, rows over y,
    with a colour bar titled ``label``) or ``text`` (``label`` at (x[0], y[0]))."""

    kind: str
    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    err: list | None = None
    label: str = ""
    style: str = ""  # a matplotlib format string ("o", "--", ":"), for lines and points
    color: str | None = None
    bins: list | None = None
    z: list | None = None


@dataclass
class Panel:
    title: str
    xlabel: str
    ylabel: str
    series: list = field(default_factory=list)
    xscale: str = "linear"  # linear | log | log2
    yscale: str = "linear"
    ylim: tuple | None = None
    legend: bool = True


@dataclass
class Figure:
    """A figure file ``<claim>-<name>.png``: panels on a ``shape`` grid (rows, columns), a caption."""

    name: str
    title: str
    panels: list
    shape: tuple | None = None  # default: one row of all panels
    size: tuple = (11, 4.2)
    caption: str = ""


# --------------------------------------------------------------------------- report content


@dataclass
class Table:
    header: list
    rows: list


@dataclass
class Section:
    """Text (paragraphs; lines starting with '- ' are bullets), then tables, then figures."""

    title: str
    text: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    figures: list = field(default_factory=list)


# --------------------------------------------------------------------------- results


@dataclass
class ObservableResult:
    """One observable at one point: Monte Carlo on the ladder against the theory, and its verdict.

    ``status`` is the verdict's, or ``shown`` when the point is displayed but not judged."""

    name: str
    label: str
    d: list
    n: list
    seeds: int
    mean: list
    se: list
    sd: list
    theory_d: list
    theory_inf: float | None
    criteria: object  # a Criteria, or None when shown
    verdict: object  # a Verdict, or None when shown
    status: str
    extra: dict = field(default_factory=dict)


@dataclass
class SubTest:
    """A sub-test that is not a ladder verdict: a rate, a sign at the top d, a power requirement.

    ``counted``: whether the claim's verdict counts it (qualitative checks are shown, not counted)."""

    name: str
    status: str
    reasons: list
    numbers: dict = field(default_factory=dict)
    counted: bool = True


@dataclass
class PointResult:
    point: object  # the Point
    title: str
    observables: dict  # name -> ObservableResult
    subtests: list = field(default_factory=list)
    seeds: int = 0
    details: dict = field(default_factory=dict)  # JSON-ready theory details (κ, edges, thresholds, ...)
    summary: str = ""  # one line of theory details for the report
    cache_hits: int = 0
    figures: list = field(default_factory=list)  # Figure
    #: means per d of what ``observe`` returned besides the judged observables (reported, not judged)
    auxiliary: dict = field(default_factory=dict)
    #: the samples at the largest d, as measured and as observed (for paired tests and figures; not in JSON)
    top_measured: list = field(default_factory=list)
    top_observed: list = field(default_factory=list)

    def statuses(self) -> list:
        out = [o.status for o in self.observables.values() if o.verdict is not None]
        return out + [t.status for t in self.subtests if t.counted]


@dataclass
class ClaimOutcome:
    name: str
    spec: str
    title: str
    statement: str
    status: str
    summary: str
    perturb: str
    method: list = field(default_factory=list)  # paragraphs of the Method section
    points: list = field(default_factory=list)  # PointResult
    sections: list = field(default_factory=list)  # claim sections before the per-point results
    appendix: list = field(default_factory=list)  # claim sections after them
    figures: list = field(default_factory=list)  # Figure, besides those inside sections
    tests: list = field(default_factory=list)  # claim-level SubTest
    record: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)  # claim-specific JSON
    json_points: bool = True  # write the per-point results into the JSON
