"""Files that are either whole or absent: atomic writes, and the Monte Carlo sample cache.

Every finished sample is stored under a key that names everything it depends
on (engine version, model, d, n, λ grid, seed), written to a temporary file
and renamed into place, so an interrupted run loses no finished sample and
never leaves a half-written file; a rerun reads the finished samples back.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``path`` whole or not at all (temporary file + rename).

    ``durable`` also fsyncs before the rename, so that the file survives a power cut, not only a
    killed process; cache entries skip it (a damaged entry is detected and recomputed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def default_cache_dir() -> Path:
    env = os.environ.get("RMTVERIFY_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rmtverify"


class SampleCache:
    """One JSON file per finished sample; ``None`` directory disables caching."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory is not None else None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(spec: dict) -> str:
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, spec: dict):
        if self.directory is None:
            return None
        path = self._path(self.key(spec))
        try:
            with open(path, "r", encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None  # missing or damaged: recompute (and overwrite atomically)
        if not isinstance(record, dict) or record.get("spec") != spec or not isinstance(record.get("values"), dict):
            return None  # a hash collision or a stale format: recompute
        self.hits += 1
        return record["values"]

    def get_array(self, spec: dict):
        """A cached float64 array (e.g. the eigenvalues of one sample), or None."""
        if self.directory is None:
            return None
        key = self.key(spec)
        path = self.directory / key[:2] / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["spec"]) != json.dumps(spec, sort_keys=True):
                    return None
                arr = np.array(z["values"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        self.hits += 1
        return arr

    def put_array(self, spec: dict, values: np.ndarray) -> None:
        self.misses += 1
        if self.directory is None:
            return
        key = self.key(spec)
        buf = io.BytesIO()
        np.savez(buf, spec=np.array(json.dumps(spec, sort_keys=True)), values=np.asarray(values, dtype=float))
        atomic_write_bytes(self.directory / key[:2] / f"{key}.npz", buf.getvalue(), durable=False)

    def put(self, spec: dict, values: dict) -> None:
        self.misses += 1
        if self.directory is None:
            return
        atomic_write_text(self._path(self.key(spec)), json.dumps({"spec": spec, "values": values}), durable=False)
