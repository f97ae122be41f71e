"""Photos and PDF pages processed once, in a limited process, cached by hash.

:func:`processed` is the adapter between a gallery block and the disk: the
file's bytes are hashed with every setting that changes the result, and a
cache entry ``{cache_dir}/{key}/`` (the variants and ``meta.json``) is used
if it is there; ``{cache_dir}/by-path/`` remembers each file's entry at its
size and mtime, so that an unchanged file is not even read again. Only when it is not is a :mod:`.worker` process started,
under ``RLIMIT_AS`` and ``RLIMIT_CPU`` and a wall-clock timeout, so a
rebuild of an unchanged site does no image work at all and a hostile image
cannot take the build down with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AlbumError
from .settings import AlbumsSettings

#: Bumped when the worker's output changes, so old cache entries are not used.
VERSION = 1


@dataclass(frozen=True)
class Entry:
    key: str
    width: int
    height: int
    variants: tuple[dict[str, Any], ...]  # file, width, height, type
    maxrss_kb: int = 0  # of the worker that made it (0: from the cache)


def _params(op: str, settings: AlbumsSettings) -> str:
    return json.dumps(
        [VERSION, op, settings.widths, settings.webp, settings.jpeg_quality,
         settings.webp_quality, settings.document_thumbnail_px],
    )  # fmt: skip


def cache_key(data: bytes, op: str, settings: AlbumsSettings) -> str:
    digest = hashlib.sha256(data)
    digest.update(_params(op, settings).encode())
    return digest.hexdigest()[:24]


def _record_of(
    source: Path, op: str, cache_dir: Path, settings: AlbumsSettings
) -> Path:
    """Where the cache notes which entry ``source`` had at a size and mtime:
    a rebuild finds it with a stat instead of reading and hashing the file
    (the way Pelican's own caches check a file)."""
    name = json.dumps([str(source.resolve()), _params(op, settings)])
    ident = hashlib.sha256(name.encode()).hexdigest()[:24]
    return cache_dir / "by-path" / f"{ident}.json"


def _entry_of(cache_dir: Path, key: str) -> Entry | None:
    try:
        found = json.loads((cache_dir / key / "meta.json").read_text(encoding="utf-8"))
        return Entry(key, found["width"], found["height"], tuple(found["variants"]))
    except (ValueError, KeyError, OSError):
        return None  # none yet, or a damaged entry: made again


def _note(record: Path, size: int, mtime_ns: int, key: str) -> None:
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        temp = record.with_name(f".{record.name}.{os.getpid()}")
        temp.write_text(json.dumps({"size": size, "mtime_ns": mtime_ns, "key": key}))
        os.replace(temp, record)
    except OSError:
        pass  # only a shortcut: the next build hashes the file again


def run_worker(job: dict[str, Any], settings: AlbumsSettings) -> dict[str, Any]:
    """The :mod:`.worker`'s answer to ``job``; a crash, a timeout or a limit
    reached is an answer too (``ok`` false), never an exception."""
    # The worker sets its own limits before it reads anything (a
    # preexec_fn would run between fork and exec, unsafe in a process with
    # threads).
    job = {**job, "memory_mb": settings.worker_memory_mb,
           "cpu_seconds": settings.worker_seconds}  # fmt: skip
    env = dict(os.environ)
    # Many threads each reserve an arena of address space under RLIMIT_AS.
    env.update(OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "causerie.albums.worker"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=settings.worker_seconds * 2,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "code": "timeout",
                "detail": f"processing it took over {settings.worker_seconds * 2} s"}  # fmt: skip
    line = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    if proc.returncode == 0 and line:
        answer: dict[str, Any] = json.loads(line[0])
        return answer
    why = (proc.stderr.strip().splitlines() or ["no message"])[-1][:300]
    if proc.returncode < 0 or "MemoryError" in proc.stderr:
        return {"ok": False, "code": "limit",
                "detail": f"it needs more than {settings.worker_memory_mb} MB or "
                f"{settings.worker_seconds} s of processing ({why})"}  # fmt: skip
    return {"ok": False, "code": "crash", "detail": why}


def processed(
    source: Path, shown_as: str, op: str, cache_dir: Path, settings: AlbumsSettings
) -> Entry:
    """``source`` made into its variants (op "image") or its first-page
    thumbnail (op "pdf"), from the cache when it can be. Raises
    :class:`AlbumError` naming ``shown_as`` when the file is refused."""
    try:
        stat = source.stat()
        record = _record_of(source, op, cache_dir, settings)
        try:
            noted = json.loads(record.read_text(encoding="utf-8"))
            if (noted["size"], noted["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
                entry = _entry_of(cache_dir, str(noted["key"]))
                if entry is not None:
                    return entry
        except (OSError, ValueError, KeyError, TypeError):
            pass
        data = source.read_bytes()
    except OSError as exc:
        raise AlbumError(
            f"{shown_as}: cannot be read ({exc.strerror}): check the path in the block"
        ) from None
    key = cache_key(data, op, settings)
    folder = cache_dir / key
    entry = _entry_of(cache_dir, key)
    if entry is not None:
        _note(record, stat.st_size, stat.st_mtime_ns, key)
        return entry
    staging = cache_dir / f".{key}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    job = {
        "op": op,
        "source": str(source),
        "out": str(staging),
        "widths": list(settings.widths),
        "webp": settings.webp,
        "jpeg_quality": settings.jpeg_quality,
        "webp_quality": settings.webp_quality,
        "max_side": settings.max_side_px,
        "max_pixels": settings.max_pixels,
        "thumb_px": settings.document_thumbnail_px,
    }
    answer = run_worker(job, settings)
    if not answer.get("ok"):
        shutil.rmtree(staging, ignore_errors=True)
        raise AlbumError(
            f"{shown_as}: refused: {answer.get('detail')}",
        )
    width = int(answer.get("width", 0))
    height = int(answer.get("height", 0))
    (staging / "meta.json").write_text(
        json.dumps({"width": width, "height": height, "variants": answer["variants"]}),
        encoding="utf-8",
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(staging, folder)
    except OSError:  # another process made the same entry first: the same bytes
        shutil.rmtree(staging, ignore_errors=True)
    _note(record, stat.st_size, stat.st_mtime_ns, key)
    return Entry(
        key, width, height, tuple(answer["variants"]), int(answer.get("maxrss_kb", 0))
    )
