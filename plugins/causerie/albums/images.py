"""Photos and PDF pages processed once, in a limited process, cached by hash.

:func:`processed` is the adapter between a gallery block and the disk: the
file's bytes are hashed with every setting that changes the result, and a
cache entry ``{cache_dir}/{key}/`` (the variants and ``meta.json``) is used
if it is there. Only when it is not is a :mod:`.worker` process started,
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


def cache_key(data: bytes, op: str, settings: AlbumsSettings) -> str:
    params = json.dumps(
        [VERSION, op, settings.widths, settings.webp, settings.jpeg_quality,
         settings.webp_quality, settings.document_thumbnail_px],
    )  # fmt: skip
    digest = hashlib.sha256(data)
    digest.update(params.encode())
    return digest.hexdigest()[:24]


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
        data = source.read_bytes()
    except OSError as exc:
        raise AlbumError(
            f"{shown_as}: cannot be read ({exc.strerror}): check the path in the block"
        ) from None
    key = cache_key(data, op, settings)
    folder = cache_dir / key
    meta = folder / "meta.json"
    if meta.exists():
        try:
            found = json.loads(meta.read_text(encoding="utf-8"))
            return Entry(key, found["width"], found["height"], tuple(found["variants"]))
        except (ValueError, KeyError, OSError):
            pass  # a damaged entry: made again
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
    return Entry(
        key, width, height, tuple(answer["variants"]), int(answer.get("maxrss_kb", 0))
    )
