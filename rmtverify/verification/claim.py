"""The public claim API: a claim is a declaration, and one engine verifies every claim the same way.

A claim declares

- its ``name`` and ``statement`` (and, for the built-in ones, the SPEC id and a title);
- its ``points``: where it is tested — a model with its options, α, λ and any extra parameter
  (:class:`Point`, written as a dict with the command line's option names);
- one or more observables computed from one Monte Carlo sample (:meth:`Claim.measure`, cached, then
  :meth:`Claim.observe`, which may compare the sample with the theory, e.g. a distance to a law);
- the theory at finite d and, where it exists, at d = ∞ (:meth:`Claim.theory`);
- the expected convergence rate of each observable's gap and its criteria (:class:`Observable`).

The engine (:mod:`rmtverify.verification.engine`) owns the ladders of d, seeds, cache, executors,
perturbation, verdicts and the sequential design; the renderer writes Markdown, JSON and figures.
A claim file (:mod:`rmtverify.verification.claimfile`) is adapted to this same class.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, parse
from rmtverify.core.storage import SampleCache
from rmtverify.models import MODELS, OPTIONS, make_model
from rmtverify.models.laws import with_law
from rmtverify.montecarlo.engine import sample_size
from rmtverify.theory.elliptical import law_equivalents
from rmtverify.theory.equivalents import equivalents
from rmtverify.verification.figures import point_figure
from rmtverify.verification.verdict import Criteria

#: point keys that describe the model (the command line's model options) and the two common parameters
MODEL_KEYS = ("model",) + tuple(sorted({o for opts in OPTIONS.values() for o in opts})) + ("law", "nu")
COMMON_KEYS = ("alpha", "lam")


class Point(Mapping):
    """One place where a claim is tested: reads like the dict it was declared with (``point["rho"]``), and
    carries the parsed ``model``, ``alpha`` and ``lam`` (exact Fractions; ``lam`` None when not given) and
    the ``extra`` parameters (every other key, as given).

    ``label``: how reports name it; ``key``: its identity for seeds (default: the label when one is given, else
    every parameter, canonically; the cache always keys on every parameter). ``fresh_spike``: each sample draws
    its own random spike direction (``spike_seed`` = the sample's index)."""

    def __init__(self, spec: Mapping, label: str | None = None, key: str | None = None, fresh_spike: bool = False, base_dir=None):
        if not isinstance(spec, Mapping):
            raise InputError("point", f"a point is a dict such as {{'model': 'isotropic', 'alpha': '2', 'lam': '0.1'}}; got {spec!r}")
        self._spec = {str(k): v for k, v in spec.items()}
        if "model" not in self._spec:
            raise InputError("model", f"every point names a model (one of {', '.join(MODELS)}); got keys {sorted(self._spec)}")
        if "alpha" not in self._spec:
            raise InputError("alpha", "every point gives alpha = n/d")
        name = self._spec["model"]
        if not isinstance(name, str) or name not in MODELS:
            raise InputError("model", f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
        options = {k: v for k, v in self._spec.items() if k in OPTIONS[name]}
        for file_key in ("sigma", "path"):  # a claim file's relative paths are relative to its folder
            if isinstance(options.get(file_key), (str, Path)) and base_dir is not None:
                path = Path(options[file_key]).expanduser()
                options[file_key] = str(path if path.is_absolute() else Path(base_dir) / path)
        self.options = options
        self._declared = dict(label=label, key=key, fresh_spike=fresh_spike, base_dir=base_dir)
        # the data law of the rows (SPEC §7): Gaussian unless the point says otherwise
        self.law = self._spec.get("law", "gaussian")
        self.nu = self._spec.get("nu")
        self.model = with_law(make_model(name, **options), self.law, self.nu)
        stray = sorted(k for k in self._spec if k in MODEL_KEYS and k not in ("model", "law", "nu") and k not in OPTIONS[name])
        if stray:
            raise InputError(stray[0], f"is not an option of model {name!r} (its options: {', '.join(OPTIONS[name]) or 'none'})")
        self.alpha = parse("alpha", self._spec["alpha"])
        self.lam = parse("lam", self._spec["lam"]) if self._spec.get("lam") is not None else None
        self.extra = {k: v for k, v in self._spec.items() if k not in MODEL_KEYS and k not in COMMON_KEYS}
        self.fresh_spike = fresh_spike
        canonical = self.canonical()
        self.label = label or canonical
        self.key = key or label or canonical

    def canonical(self) -> str:
        parts = [self.model.key(), f"alpha={self.alpha}"]
        if self.lam is not None:
            parts.append(f"lam={self.lam}")
        parts += [f"{k}={self.extra[k]}" for k in sorted(self.extra)]
        return "|".join(parts)

    def title(self) -> str:
        """model(options) α=… λ=… [law …]: how a report heads the point."""
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items())
        law = "" if self.law == "gaussian" else f" law {self.law}" + (f" ν={self.nu}" if self.nu is not None else "")
        return f"{self.model.name}({opts}) α={self.alpha}" + (f" λ={self.lam}" if self.lam is not None else "") + law

    def with_law(self, law: str, nu=None) -> "Point":
        """This point with rows of another data law (``verify --law``); a point that declares its own law keeps it
        and refuses (the claim chose that law on purpose)."""
        if "law" in self._spec or "nu" in self._spec:
            raise InputError("law", f"the point {self.label!r} declares its own data law ({self._spec.get('law', 'gaussian')}): "
                                    "--law applies to claims whose points leave the law open")
        spec = {**self._spec, "law": law, **({"nu": nu} if nu is not None else {})}
        return Point(spec, **self._declared)

    def __getitem__(self, key):
        return self._spec[key]

    def __iter__(self):
        return iter(self._spec)

    def __len__(self):
        return len(self._spec)

    def __repr__(self):
        return f"Point({self.label})"

    def n(self, d: int) -> int:
        """The sample size at dimension d: round(α d)."""
        return sample_size(self.alpha, d)

    def alpha_at(self, d: int) -> Fraction:
        """The sample ratio the Monte Carlo has at d, n/d (exact); α itself at d = ∞."""
        return self.alpha if d == INF else Fraction(self.n(d), d)

    def equivalents(self, d, dps: int = 30):
        """The deterministic equivalents (κ, E_gen, E_train, …) of this point at dimension d: at d = ∞ to ``dps``
        digits, at finite d in double precision at the ratio n/d the Monte Carlo has. Rows of another law: that law's
        equivalents (elliptical: their own; i.i.d.: the Gaussian ones, the universal limit)."""
        theory = equivalents if self.law == "gaussian" else law_equivalents
        return theory(self.model, self.alpha_at(d), self.lam, d=d, dps=dps if d == INF else None)

    def model_for_sample(self, index: int):
        """The model of sample ``index`` (its own spike direction when ``fresh_spike``)."""
        if not self.fresh_spike:
            return self.model
        return with_law(make_model(self._spec["model"], **{**self.options, "spike_seed": index}), self.law, self.nu)

    def describe(self) -> dict:
        out = {"label": self.label, "model": self.model.describe(), "alpha": str(self.alpha)}
        if self.lam is not None:
            out["lam"] = str(self.lam)
        if self.extra:
            out["extra"] = {k: str(v) for k, v in self.extra.items()}
        return out


@dataclass(frozen=True)
class Observable:
    """An observable a claim judges: its expected rate β₀ and the power it must have.

    ``resolution``: the relative error (half the error to detect) that 4 SE(g∞) must resolve, relative to
    ``scale`` (default: |theory|). ``controls``: measured mean-zero control variates whose cross-fitted
    regression the mean subtracts. ``log_correction``: the gap may decay like log(d)·d^-β₀."""

    name: str
    label: str = ""
    rate: float = 1.0
    resolution: float = 0.005
    scale: float | None = None
    log_correction: bool = False
    controls: tuple = ()

    @property
    def title(self) -> str:
        return self.label or self.name

    def criteria(self, **changes) -> Criteria:
        base = dict(beta0=self.rate, resolution=self.resolution, scale=self.scale, log_correction=self.log_correction)
        base.update(changes)
        return Criteria(**base)


@dataclass
class RunOptions:
    quick: bool = False
    perturb: Fraction = Fraction(0)
    out: Path = Path("reports")
    seed: int = 0
    cache: SampleCache = field(default_factory=lambda: SampleCache(None))
    quiet: bool = True
    #: where the Monte Carlo samples run: None (serial) or an ExecutorSpec (local processes, Dask)
    executor: object = None
    #: extend each claim's ladder by doubling up to this d (None: the claim's own ladder)
    max_d: int | None = None
    #: a progress sink (``planned(work)``, ``done(work, cached)``): a report's display of this claim's share, or None
    progress: object = None
    #: ``verify --law``: (law, ν) given to every point that leaves its law open (None: each point's own)
    law: tuple | None = None
    #: ``verify --data``: {"path": file, "standardize": bool} for claims that take a data set (``takes_data``)
    data: dict | None = None

    def ladder(self, quick: tuple, full: tuple) -> tuple:
        """The claim's ladder (quick or full), extended by doubling while the next d is ≤ ``max_d``."""
        base = tuple(quick if self.quick else full)
        if self.max_d is None:
            return base
        if self.max_d < base[-1]:
            raise InputError("max_d",
                             f"extends a ladder and cannot cut it: must be at least {base[-1]} (this claim's top d); got {self.max_d}")
        out = list(base)
        while out[-1] * 2 <= self.max_d:
            out.append(out[-1] * 2)
        return tuple(out)


class Claim:
    """A claim verified on a ladder of d. Subclass it (or write a claim file) and declare what differs.

    Required: ``name``, ``statement``, ``observables``, :meth:`measure` (or ``observe`` alone) and
    :meth:`theory`, and the points (``point_list``, or :meth:`points`)."""

    name: str = ""
    statement: str = ""
    spec: str = ""  # the SPEC id of a built-in claim
    title: str = ""
    observables: tuple = ()
    point_list: tuple = ()
    #: (quick, full) ladders of d and seeds per d
    ladders: tuple | None = ((64, 128, 256, 512), (128, 256, 512, 1024, 2048))
    seeds: tuple = (16, 16)
    #: how a sample is drawn: "gram" (S through Bartlett's factor, no X) or "rows" (X itself)
    draw: str = "gram"
    #: "scale": --perturb multiplies every theory value by (1 + ε); "theory": the claim puts ε into its own
    #: theory (prepare receives it), e.g. into a resolvent equation
    perturbation: str = "scale"
    #: part of the cache key of every measurement: bump it when ``measure`` changes
    version: str = "1"
    #: > 1: Stein's two-stage design — a point whose sub-tests lack power is rerun with more samples,
    #: up to this multiple of the pilot (the extension reads standard errors only, never gaps)
    sequential_cap: int = 1
    #: a figure per point with each observable and its gap against d (False: only the claim's own figures)
    point_figures: bool = True
    #: the claim's power: at the points where ``needs_power(point)``, one of these observables must resolve
    #: ``power_ratio`` times the change a 1% error in the theory makes (4 SE(g∞) ≤ ratio · change)
    power_observables: tuple = ()
    power_ratio: float = 0.5
    #: where the claim was declared (a claim file's path; None for a built-in claim)
    source: str | None = None
    #: the claim verifies a data set that ``RunOptions.data`` (``verify --data FILE``) may replace
    takes_data: bool = False

    # ---------------------------------------------------------------- declarations (override)
    def points(self, options: RunOptions) -> list:
        return list(self.point_list)

    def points_run(self, options: RunOptions) -> list:
        """The points a run verifies: :meth:`points`, with the rows of ``options.law`` where one is given."""
        points = self.points(options)
        return [p.with_law(*options.law) for p in points] if options.law is not None else points

    def observables_for(self, point: Point) -> tuple:
        """The observables judged at ``point`` (default: the claim's ``observables``)."""
        return tuple(self.observables)

    def prepare(self, point: Point, eps: Fraction):
        """Theory objects the point's other methods share (a law, tables): computed once per point.
        ``eps`` is the perturbation when ``perturbation == "theory"``, else 0."""
        return None

    def measure(self, sample, point: Point) -> dict:
        """The numbers one sample gives (floats, lists, arrays); cached, so it must not read the theory."""
        raise NotImplementedError

    def observe(self, measured: dict, point: Point, prepared, d: int) -> dict:
        """Each observable of one sample, from what :meth:`measure` returned (default: the same dict)."""
        return {o.name: measured[o.name] for o in self.observables_for(point)}

    def theory(self, point: Point, d, prepared) -> dict | None:
        """Each observable's deterministic equivalent at dimension d (an int) or at d = ∞ (``math.inf``);
        None at d = ∞ when there is no limit. Numbers or decimal strings."""
        raise NotImplementedError

    def criteria(self, point: Point, observable: Observable, prepared) -> Criteria | None:
        """The criteria of one observable at one point; None shows the point without judging it."""
        return observable.criteria()

    def extra_tests(self, result, prepared) -> list:
        """Sub-tests beyond the ladder verdicts (SubTest list), e.g. signs at the largest d."""
        return []

    def needs_power(self, point: Point) -> bool:
        """Whether the claim's power requirement applies at ``point`` (default: nowhere)."""
        return False

    def shortfall(self, result, prepared) -> float:
        """For the sequential design: the largest ratio of a judged observable's smallest detectable error to
        its target (≤ 1: the point has its power). Read from standard errors only, never from gaps."""
        out = 0.0
        for o in result.observables.values():
            if o.verdict is not None:
                out = max(out, o.verdict.numbers.get("min_detectable_rel", math.inf) / o.criteria.resolution)
        return out

    def details(self, point: Point, prepared) -> tuple[str, dict]:
        """(one line of theory details for the report, the same as JSON)."""
        return "", {}

    def summarize(self, results: list, options: RunOptions) -> dict:
        """Claim-level content: {"sections": [...], "appendix": [...], "figures": [...], "data": {...},
        "summary": str (replaces the default count line), "tests": [SubTest]}."""
        return {}

    def point_title(self, point: Point) -> str:
        return point.title()

    def figures_for(self, result, prepared) -> list:
        """The figures of one point (default: each observable and its gap against d, when ``point_figures``)."""
        return [point_figure(slug(result.point.label), result, result.title)] if self.point_figures else []

    # ---------------------------------------------------------------- helpers
    def ladder(self, options: RunOptions) -> tuple:
        return options.ladder(*self.ladders)

    def seeds_for(self, options: RunOptions) -> int:
        return self.seeds[0] if options.quick else self.seeds[1]

    def observable(self, name: str) -> Observable:
        for o in self.observables:
            if o.name == name:
                return o
        raise KeyError(name)


def slug(text: str) -> str:
    """A file-name-safe form of a label."""
    return re.sub(r"[^A-Za-z0-9.+=-]+", "-", str(text)).strip("-") or "point"


def is_limit(d) -> bool:
    """Whether ``d`` stands for d = ∞ (``math.inf``)."""
    return d == math.inf
