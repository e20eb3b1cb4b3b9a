"""Files several processes share (the fit cache, a hierarchy's node paths): written whole
under a name of the writer's own and renamed into place, and a file that cannot be read
dropped and counted a miss, so it is made again rather than failing every later read."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

log = logging.getLogger("exportcast.cache")

T = TypeVar("T")
_REPORTED: set[str] = set()  # broken files already logged: one line each, however often read


def write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """`write` into a temporary file no other writer uses, then rename it over `path`: two
    writers of one key never mix their bytes, and a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as out:
            write(out)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_or_drop(path: Path, read: Callable[[BinaryIO], T]) -> T | None:
    """`read(file)`; None when there is no file, or when reading it fails in any way (the
    file is then deleted, so it is written afresh, and logged once)."""
    try:
        with open(path, "rb") as file:
            try:
                return read(file)
            except Exception as exc:  # truncated, not a zip, arrays missing: all a miss
                _drop(path, file, exc)
                return None
    except FileNotFoundError:  # never written, or dropped or replaced meanwhile
        return None


def _drop(path: Path, file: BinaryIO, exc: Exception) -> None:
    opened = os.fstat(file.fileno())
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return
    if (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino):  # not rewritten since
        path.unlink(missing_ok=True)
    if str(path) not in _REPORTED:
        _REPORTED.add(str(path))
        log.warning("dropped unreadable cache file %s (%s: %s)", path, type(exc).__name__, exc)
