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
        os.chmod(tmp, 0o666 & ~_umask())  # the permissions a plain open() would give, not mkstemp's private 0600
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def default_cache_dir() -> Path:
    env = os.environ.get("RMTVERIFY_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rmtverify"


class CacheWarning(UserWarning):
    """The sample cache cannot be used as asked (it is bypassed; results are unaffected)."""


def _checksum(values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


class SampleCache:
    """One file per finished sample, named by the hash of its spec; a ``None`` directory disables caching.

    A record is a dict of numbers, lists of numbers and float64 arrays. Records without arrays are JSON
    (floats round-trip exactly through their shortest repr); records with arrays are ``.npz``. Each record
    carries a checksum of its values. A file that is missing, damaged, of another spec, edited (its values no
    longer match their checksum) or not a file is a miss: the sample is recomputed and the file replaced
    atomically. A cache directory that cannot be created or written — a path that is a file, a read-only
    folder, a full disk — is bypassed with one :class:`CacheWarning`: the run goes on without it and its
    numbers are the same.
    """

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory is not None else None
        self.hits = 0
        self.misses = 0
        self.disabled = None  # the reason the cache was bypassed, once it is

    @staticmethod
    def key(spec: dict) -> str:
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def _path(self, spec: dict, suffix: str) -> Path:
        key = self.key(spec)
        return self.directory / key[:2] / f"{key}{suffix}"

    def _disable(self, why: str) -> None:
        import warnings

        if self.disabled is None:
            self.disabled = why
            message = f"sample cache {str(self.directory)!r} bypassed: {why}; samples are computed, not cached"
            warnings.warn(message, CacheWarning, stacklevel=3)

    def usable(self) -> bool:
        """Whether the cache directory exists or can be created, and is writable (checked once)."""
        if self.directory is None or self.disabled is not None:
            return False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".rmtverify-write-test-"):
                pass
        except OSError as exc:
            self._disable(f"it cannot be created or written ({exc.strerror or exc})")
            return False
        return True

    def get(self, spec: dict):
        """The cached record of ``spec`` (dict), or None."""
        if self.directory is None or self.disabled is not None:
            return None
        record = self._read_json(spec)
        if record is None:
            record = self._read_npz(spec)
        if record is not None:
            self.hits += 1
        return record

    def _read_json(self, spec):
        try:
            with open(self._path(spec, ".json"), "r", encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("spec") != spec or not isinstance(record.get("values"), dict):
            return None  # a hash collision or a stale format
        if record.get("checksum") != _checksum(record["values"]):
            return None  # edited or truncated into another well-formed record
        return record["values"]

    def _read_npz(self, spec):
        try:
            with np.load(self._path(spec, ".npz"), allow_pickle=False) as z:
                if "spec" not in z.files or str(z["spec"]) != json.dumps(spec, sort_keys=True):
                    return None
                values = {k[2:]: np.array(z[k]) for k in z.files if k.startswith("v_")}
                checksum = str(z["checksum"]) if "checksum" in z.files else None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if checksum != _checksum({k: np.asarray(v, dtype=float).tobytes().hex() for k, v in values.items()}):
            return None
        return values

    def put(self, spec: dict, values: dict) -> None:
        self.misses += 1
        if self.directory is None or self.disabled is not None:
            return
        try:
            if any(isinstance(v, np.ndarray) for v in values.values()):
                buf = io.BytesIO()
                arrays = {f"v_{k}": np.asarray(v, dtype=float) for k, v in values.items()}
                checksum = _checksum({k[2:]: a.tobytes().hex() for k, a in arrays.items()})
                np.savez(buf, spec=np.array(json.dumps(spec, sort_keys=True)), checksum=np.array(checksum), **arrays)
                atomic_write_bytes(self._path(spec, ".npz"), buf.getvalue(), durable=False)
            else:
                text = json.dumps({"spec": spec, "values": values, "checksum": _checksum(values)})
                atomic_write_text(self._path(spec, ".json"), text, durable=False)
        except OSError as exc:
            self._disable(f"a sample could not be written ({exc.strerror or exc})")
