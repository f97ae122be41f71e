"""The adapter around the indexer: run Pagefind on the output's pages, then
move its bundle into ``output/pagefind/`` so that readers never see half of it.

Pagefind has no incremental mode, so every update indexes the whole site
again (8,000 posts in about 13 s on two cores: docs/PERFORMANCE.md): the pages
the theme marks for the index are copied into a scratch directory, in memory
when the machine has /dev/shm (one snapshot, and none of the list pages
Pagefind would parse only to skip), indexed into a fresh bundle there, and
only the files that differ are moved into the output.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from causerie.errors import UserError

from .core import BUNDLE_DIR, ENTRY_FILE, command, plan_bundle
from .settings import SearchSettings

log = logging.getLogger(__name__)

INSTALL = "pip install 'pagefind[bin]'"

#: What the theme puts on the element of a page to index (Pagefind's own
#: attribute): a page without it is not staged for the indexer.
MARK = b"data-pagefind-body"


class SearchError(UserError):
    """The search index could not be built; the message says why and how to fix it."""


@dataclass
class IndexReport:
    """What one indexing did."""

    pages: int = 0
    languages: tuple[str, ...] = ()
    seconds: float = 0.0
    bytes: int = 0
    files_changed: int = 0
    files_removed: int = 0


def find_binary(cfg: SearchSettings) -> str:
    """The Pagefind executable to run, or a :class:`SearchError` saying how
    to install one."""
    if cfg.binary:
        path = Path(cfg.binary).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SearchError(
                f"SEARCH['binary'] is {cfg.binary!r}, which is not an executable "
                f"file: fix the path in pelicanconf.py, or remove the key to use "
                f"the one `{INSTALL}` installs"
            )
        return str(path)
    try:
        from pagefind.service import get_executable

        found = get_executable()
    except (ImportError, FileNotFoundError):
        found = None
    if found is None or not Path(found).is_file():
        raise SearchError(
            f"the search indexer (Pagefind) is not installed: run `{INSTALL}` in "
            "the site's virtual environment, or set SEARCH['binary'] to its "
            "path, or SEARCH['enabled'] = False to build without search"
        )
    return str(found)


def _run(
    argv: list[str], output: Path, timeout: float, background: bool
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The command line is the whole configuration: Pagefind also reads
        # PAGEFIND_* variables and a pagefind.yml in its working directory,
        # which must not change what the site indexes.
        env={k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")},
        cwd=output,
    )
    _running.add(proc)
    if background:
        # After the start, not in preexec_fn (unsafe in a process with
        # threads, which publish watch is).
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, proc.pid, 10)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    finally:
        _running.discard(proc)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


#: Indexers running now: a process that exits (Ctrl-C on publish watch,
#: whose indexing thread is a daemon) stops them rather than leave one
#: writing beside the output after it is gone; the next run starts afresh.
_running: set[subprocess.Popen[str]] = set()
#: Their scratch directories, removed too: in /dev/shm a leftover holds
#: memory until the same output is indexed again.
_scratches: set[Path] = set()


@atexit.register
def _stop_running() -> None:
    for proc in list(_running):
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=5)
    for scratch in list(_scratches):
        shutil.rmtree(scratch, ignore_errors=True)


def _digests(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if not root.is_dir():
        return found
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            found[rel] = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    return found


def _pages_to_index(
    output: Path, argv: list[str], cfg: SearchSettings
) -> tuple[str, list[tuple[str, Path]]]:
    """The pages to index (path in the output, file) and the digest of what
    the index is made of: those pages, the indexer's command line and the
    settings.

    The pages to index are those the theme marks (``data-pagefind-body``):
    Pagefind would open and parse every other page too (list pages,
    tombstones: about 12,000 of 20,000 files at 8,000 posts) only to skip it.
    A site whose theme marks no page has all its pages indexed, as Pagefind
    does.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((argv, cfg)).encode())
    marked: list[tuple[str, Path]] = []
    unmarked: list[tuple[str, Path]] = []
    for dirpath, dirs, files in os.walk(output):
        dirs[:] = sorted(d for d in dirs if Path(dirpath, d) != output / BUNDLE_DIR)
        for name in sorted(files):
            if name.endswith(".html"):
                path = Path(dirpath) / name
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue  # removed meanwhile by the next build
                rel = path.relative_to(output).as_posix()
                if MARK in data:
                    marked.append((rel, path))
                    digest.update(rel.encode() + b"\0" + data)
                else:
                    unmarked.append((rel, path))
    if not marked:  # read again: a theme without marks is the rare case
        for rel, path in unmarked:
            with contextlib.suppress(FileNotFoundError):
                digest.update(rel.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest(), unmarked
    return digest.hexdigest(), marked


def _stage(pages: list[tuple[str, Path]], staging: Path, output: Path) -> None:
    """Put ``pages`` into ``staging``, their paths kept, as one snapshot of
    the site even while the next change is written: hard links when
    ``staging`` is on the output's file system (a build moves each finished
    file in with a rename, so a link keeps the file it was made from),
    copies otherwise."""
    link = staging.stat().st_dev == output.stat().st_dev
    made: set[Path] = set()
    for rel, path in pages:
        target = staging / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        try:
            if link:
                os.link(path, target)
            else:
                shutil.copyfile(path, target)
        except FileNotFoundError:
            continue  # deleted since: the indexing that follows that change
        except OSError:
            if not link:
                raise
            link = False  # a file system without hard links: copies from now
            shutil.copyfile(path, target)


def _scratch(output: Path, cfg: SearchSettings) -> Path:
    """An empty directory of this output's own for one indexing: the pages
    given to the indexer and the bundle it writes.

    In memory (/dev/shm) when the machine has it: the indexer writes
    thousands of small files (8,000 fragments at 8,000 posts), which on this
    project's reference machine cost it about 4 s more on disk than in
    memory (docs/PERFORMANCE.md); only the files that changed are then
    copied into the output. ``SEARCH["scratch"]`` names another place, or
    "output" for beside the output (a machine short of memory).
    """
    places: list[Path] = []
    if cfg.scratch not in (None, "output"):
        places.append(Path(cfg.scratch).expanduser())
    elif cfg.scratch is None and Path("/dev/shm").is_dir():
        places.append(Path("/dev/shm"))
    for place in places:
        candidate = place / scratch_name(output)
        try:
            _empty(candidate)
            return candidate
        except OSError as exc:
            if cfg.scratch is not None:
                raise SearchError(
                    f"SEARCH['scratch'] is {cfg.scratch!r}, where the indexer "
                    f"cannot work ({exc}): fix the path, or remove the key"
                ) from None
            log.debug(
                "search: %s unusable (%s): indexing beside the output", place, exc
            )
    candidate = output.parent / f".{output.name}.search-scratch"
    _empty(candidate)
    return candidate


def scratch_name(output: Path) -> str:
    """The name of ``output``'s scratch directory in a shared place: one per
    user and output, so a run killed midway leaves one behind at most, which
    the next run of the same output removes (under the output's lock)."""
    key = hashlib.blake2b(str(output.resolve()).encode(), digest_size=6).hexdigest()
    return f"causerie-search-{os.getuid()}-{key}"


def _empty(path: Path) -> None:
    """``path`` made an empty directory of ours (a leftover of a killed run
    removed first; a symbolic link or another user's directory refused)."""
    if path.is_symlink():
        raise OSError(f"{path} is a symbolic link")
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(mode=0o700, parents=False)


def _stamp(source: str, live: Path) -> str:
    """``source`` and the bundle's files as they are (a file added or removed
    there by hand means indexing again)."""
    listing = sorted(
        (f.relative_to(live).as_posix(), f.stat().st_size)
        for f in live.rglob("*")
        if f.is_file()
    )
    bundle = hashlib.blake2b(repr(listing).encode(), digest_size=16).hexdigest()
    return f"{source} {bundle}"


def _count_pages(report: IndexReport, entry: Path) -> None:
    try:
        meta = json.loads(entry.read_text(encoding="utf-8"))
        languages = meta.get("languages", {})
        report.languages = tuple(sorted(languages))
        report.pages = sum(int(v.get("page_count", 0)) for v in languages.values())
    except (OSError, ValueError, AttributeError):
        pass


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


@contextlib.contextmanager
def _locked(output: Path) -> Iterator[None]:
    """One indexer at a time per output (publish watch and a cron build)."""
    lock = output.parent / f".{output.name}.search.lock"
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(
    output: Path, cfg: SearchSettings, background: bool = False
) -> IndexReport:
    """Index the HTML of ``output`` and put the bundle in output/pagefind/.

    ``background``: the indexer runs at a lower CPU priority (nice 10), so
    that the next change's pages, rendered meanwhile, are not slowed by it.
    """
    binary = find_binary(cfg)
    report = IndexReport()
    start = time.perf_counter()
    with _locked(output):
        # The digest names no scratch path (it may differ from run to run).
        argv = command(binary, Path("<pages>"), Path("<bundle>"))
        # Pagefind's output differs from run to run for the same pages (its
        # filter files), so indexing unchanged pages again would make every
        # deploy of an unchanged site a new release: the pages indexed, the
        # command and the settings are hashed, and the same hash keeps the
        # index there is.
        source, pages = _pages_to_index(output, argv, cfg)
        stamp = output.parent / f".{output.name}.search.digest"
        live = output / BUNDLE_DIR
        if (live / ENTRY_FILE).is_file() and _read(stamp) == _stamp(source, live):
            _count_pages(report, live / ENTRY_FILE)
            report.bytes = sum(f.stat().st_size for f in live.rglob("*") if f.is_file())
            report.seconds = time.perf_counter() - start
            return report
        stamp.unlink(missing_ok=True)
        scratch = _scratch(output, cfg)
        _scratches.add(scratch)
        try:
            staging, fresh = scratch / "pages", scratch / "bundle"
            staging.mkdir()
            _stage(pages, staging, output)
            argv = command(binary, staging, fresh)
            _index_staged(output, staging, fresh, argv, cfg, background, report)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            _scratches.discard(scratch)
        stamp.write_text(_stamp(source, live), encoding="utf-8")
    report.bytes = sum(f.stat().st_size for f in live.rglob("*") if f.is_file())
    report.seconds = time.perf_counter() - start
    return report


def _index_staged(
    output: Path,
    staging: Path,
    fresh: Path,
    argv: list[str],
    cfg: SearchSettings,
    background: bool,
    report: IndexReport,
) -> None:
    """Run the indexer on ``staging`` into ``fresh``, then move the bundle
    into the output."""
    binary = argv[0]
    try:
        done = _run(argv, staging, cfg.timeout, background)
    except subprocess.TimeoutExpired:
        raise SearchError(
            f"the search indexer ran for more than {cfg.timeout:g} s on "
            f"{output}: raise SEARCH['timeout'] in pelicanconf.py"
        ) from None
    except OSError as exc:
        raise SearchError(
            f"cannot run the search indexer {binary}: {exc}; reinstall it "
            f"with `{INSTALL}` or fix SEARCH['binary']"
        ) from None
    entry = fresh / ENTRY_FILE
    if done.returncode != 0 or not entry.is_file():
        said = (done.stderr or done.stdout).strip().splitlines()[-5:]
        # The scratch directory is gone by the time a person reads this:
        # the same pages are indexed from the output itself, into a folder
        # beside it that nothing serves.
        shown = " ".join(command(binary, output, output.parent / "pagefind-check"))
        raise SearchError(
            f"the search indexer failed on {output} (exit {done.returncode}): "
            f"{' / '.join(said) or 'no message'}; run `{shown}` to "
            "see it, or set SEARCH['required'] = False to publish without "
            "an up-to-date index"
        )
    _count_pages(report, entry)
    report.files_changed, report.files_removed = _install(fresh, output / BUNDLE_DIR)


def _install(fresh: Path, live: Path) -> tuple[int, int]:
    """Move the new bundle over the live one: new files first, the entry
    file last, then the old files nothing names any more."""
    plan = plan_bundle(_digests(fresh), _digests(live))
    for rel in plan.copy:
        target = live / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(fresh / rel, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # From memory to the output's disk: copied beside, then renamed,
            # so a reader never gets half a file.
            part = target.with_name(f".{target.name}.part")
            shutil.copyfile(fresh / rel, part)
            os.replace(part, target)
    for rel in plan.remove:
        (live / rel).unlink(missing_ok=True)
    for dirpath, dirs, files in os.walk(live, topdown=False):
        if not dirs and not files and Path(dirpath) != live:
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
    shutil.rmtree(fresh, ignore_errors=True)
    return len(plan.copy), len(plan.remove)


def remove_index(output: Path) -> None:
    """Search turned off: no index left behind to serve stale results."""
    shutil.rmtree(output / BUNDLE_DIR, ignore_errors=True)


def index_or_warn(output: Path, cfg: SearchSettings) -> IndexReport | None:
    """:func:`build_index`, with SEARCH['required'] = False turning a
    failure into a warning (the previous index, if any, stays)."""
    try:
        report = build_index(output, cfg)
    except SearchError as exc:
        if cfg.required:
            raise
        log.warning("search: %s (SEARCH['required'] is False: building on)", exc)
        return None
    log.info(
        "search: indexed %d pages (%s) in %.2f s",
        report.pages,
        ", ".join(report.languages) or "no language",
        report.seconds,
    )
    return report


class BackgroundIndexer:
    """Re-indexes one output in a thread, after the pages are live.

    A request made while an indexing runs is not lost: one more indexing
    follows, which sees every change made until it starts (requests are
    coalesced, so a burst of changes costs at most two runs).
    """

    def __init__(self, output: Path, cfg: SearchSettings) -> None:
        self.output = output
        self.cfg = cfg
        self._lock = threading.Lock()
        self._pending = False
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self.last: IndexReport | None = None
        self.last_error: SearchError | None = None
        self.runs = 0

    def request(self, cfg: SearchSettings | None = None) -> None:
        with self._lock:
            if cfg is not None:
                self.cfg = cfg
            self._pending = True
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="causerie-search-index", daemon=True
                )
                self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no indexing is running or pending; False on timeout."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    self._idle.set()
                    return
                self._pending = False
                cfg = self.cfg
            try:
                self.last = build_index(self.output, cfg, background=True)
                self.last_error = None
                log.info(
                    "search: index updated (%d pages, %.2f s)",
                    self.last.pages,
                    self.last.seconds,
                )
            except SearchError as exc:
                self.last_error = exc
                log.error("search: %s", exc)
            except Exception:  # a thread must not die silently
                log.exception("search: indexing %s failed", self.output)
            self.runs += 1


_background: dict[Path, BackgroundIndexer] = {}
_background_lock = threading.Lock()


def background(output: Path, cfg: SearchSettings) -> BackgroundIndexer:
    """The one background indexer of ``output`` in this process."""
    key = output.resolve()
    with _background_lock:
        indexer = _background.get(key)
        if indexer is None:
            indexer = _background[key] = BackgroundIndexer(key, cfg)
        return indexer
