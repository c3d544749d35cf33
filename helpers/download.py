"""The data tiers, fetched and unpacked safely into :func:`tier_folder` as ``<speaker>/<file>``:
``small`` (LibriSpeech dev-clean, 337 MB, 40 speakers; + test-clean), ``full`` (the 5.5 GB
practical's archive: Drive, else Cloud Storage, else train-clean-100), ``synthetic``."""

import copy
import gzip
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import zlib
from collections import namedtuple
from hashlib import file_digest
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm.auto import tqdm

from . import fetch, paths
from .fetch import DownloadError, download_drive, download_http, say
from .paths import download_command

TIERS = ("small", "full", "synthetic")
SOURCES = ("auto", "drive", "gcs", "openslr")  # of the full tier; auto tries them in this order
DRIVE_FILE_ID = "1-6Soa4dM9nQi-hjoz021H2aEdhw-3MV9"
DRIVE_VIEW_URL = f"https://drive.google.com/file/d/{DRIVE_FILE_ID}/view"
GCS_URL = "https://storage.googleapis.com/data_ecoleit/Copie%20de%20train-dataset.tar.gz"
OPENSLR_URL = "https://www.openslr.org/resources/12/train-clean-100.tar.gz"
OPENSLR_SHA256 = "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2"
DEV_CLEAN_URL = "https://www.openslr.org/resources/12/dev-clean.tar.gz"
DEV_CLEAN_SHA256 = "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3"
TEST_CLEAN_URL = "https://www.openslr.org/resources/12/test-clean.tar.gz"
TEST_CLEAN_SHA256 = "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23"
ARCHIVE_NAME, OPENSLR_ARCHIVE_NAME = "train-dataset.tar.gz", "train-clean-100.tar.gz"
MIRROR_ENV, SHA256_ENV = "AUDIO_COURSE_DATA_URL", "AUDIO_COURSE_DATA_SHA256"
FALLBACK_ENV = "AUDIO_COURSE_DATA_FALLBACK"  # set by the Colab setup on a fallback: "<tier>: <why>"
SYNTHETIC_OPTIONS = {"n_speakers": 24, "files_per_speaker": 12, "max_seconds": 8.0}  # as course's
FAILURES_FILE = "audio-course-failed-sources.json"  # in tempfile.gettempdir(): one per runtime

_REMEMBERED = set(fetch.NEXT_STEPS) - {"interrupted", "disk", "local"}  # skipped on a re-run
_FINAL = {"usage", "disk", "local"}  # another source would not help
# Where one archive (file name ``archive``) comes from: ``label`` goes to the .complete marker
# (drive, gcs, openslr, url); a ``url`` ``drive:<id>`` is a Google Drive file.
Source = namedtuple("Source", "label title url archive sha256", defaults=[None])


def tier_folder(tier: str) -> Path:
    """The default folder of a tier: ``data/small``, ``train-dataset`` or ``data/synthetic``."""
    if tier not in TIERS:
        raise DownloadError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}", kind="usage")
    return dict(zip(TIERS, (paths.SMALL_DATA, paths.FULL_DATA, paths.SYNTHETIC_DATA)))[tier]


def fallback_notice() -> str | None:
    """A boxed note that synthetic data stands in for a failed download (``$FALLBACK_ENV``)."""
    if not (failed := os.environ.get(FALLBACK_ENV)):
        return None
    tier, _, why = failed.partition(": ")
    lines = [
        f"The {tier} tier could not be downloaded ({why}):",
        "these notebooks run on SYNTHETIC voices, and their results say nothing about real speech.",
        f"To retry: !{download_command('--tier', tier, '--retry')}",
        "then run the setup cell again.",
    ]
    rule = "+" + "-" * (max(map(len, lines)) + 2) + "+"
    return "\n".join([rule, *(f"| {s.ljust(len(rule) - 4)} |" for s in lines), rule])


def has_dataset(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` is complete (:func:`helpers.paths.is_complete`) with a speaker folder."""
    return paths.is_complete(folder) and any(
        p.is_dir() and p.name[0] != "." for p in Path(folder).iterdir()
    )


def _describe(folder: Path) -> str:
    return (folder / paths.COMPLETE_MARKER).read_text(encoding="utf-8").strip() or "no details"


def check_archive(path: str | os.PathLike, sha256: str | None = None, quiet: bool = False) -> None:
    """:class:`DownloadError` if ``path`` is an HTML page (kind ``quota``) or not ``sha256``."""
    with open(path, "rb") as fh:
        head = fh.read(2048).lower()
    if b"<html" in head or b"<!doctype" in head:
        what = f"{Path(path).name} is an HTML web page, not the .tar.gz: Google Drive's page when"
        what += " the download quota is exceeded or a virus scan needs confirming, or a link to it"
        raise DownloadError(what, kind="quota")
    if sha256:
        say(f"Checking the SHA-256 of {Path(path).name}...", quiet)
        with open(path, "rb") as fh:
            digest = file_digest(fh, "sha256").hexdigest()
        if digest != sha256.strip().lower():
            what = f"{path} has SHA-256 {digest}, not the expected {sha256.lower()}"
            raise DownloadError(what, kind="checksum")


def _parts(name: str) -> list[str]:
    return [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]


def _target_name(name: str) -> str | None:
    """``<speaker>/<file>`` of an audio member (LibriSpeech's chapter folders flattened)."""
    parts = _parts(name)
    if len(parts) < 2 or not paths.is_audio_file(parts[-1]) or "__MACOSX" in parts:
        return None
    nested = len(parts) >= 3 and parts[-1].startswith(f"{parts[-3]}-{parts[-2]}-")
    speaker = parts[-3] if nested else parts[-2]
    return None if speaker[0] == "." or parts[-1][0] == "." else f"{speaker}/{parts[-1]}"


def _unpack(archive: Path, root: Path, sha256: str | None, quiet: bool) -> None:
    """Check ``archive``; unpack its audio to ``root/<speaker>/<file>``, refusing unsafe members."""
    check_archive(archive, sha256, quiet)
    space = int(fetch.EXTRACT_SPACE_FACTOR * archive.stat().st_size)
    fetch.check_free_space(root.parent, space, f"unpacking {archive.name}")
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4
    written: list[Path] = []
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tqdm(tar, desc=f"Unpacking {archive.name}", unit=" files", disable=quiet):
                name, link, problem = member.name, member.linkname, None
                if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
                    problem = "an absolute path"
                elif ".." in _parts(name):
                    problem = "a '..' path component"
                elif member.issym() or member.islnk():
                    base = root / PurePosixPath(name).parent if member.issym() else root
                    target = os.path.normpath(os.path.join(base, link))
                    if link.startswith(("/", "\\")) or not target.startswith(str(root) + os.sep):
                        problem = f"a link pointing outside the folder ({link!r})"
                if problem:
                    what = f"{archive} contains an unsafe member {name!r} ({problem})"
                    step = "It is not the course data, or was tampered with: download it again"
                    raise DownloadError(f"{what}; nothing was unpacked", step, "corrupt")
                if member.isreg() and (target := _target_name(member.name)) is not None:
                    renamed = copy.copy(member)
                    renamed.name = target
                    tar.extract(renamed, root, **safe)
                    written.append(root / target)
            while tar.fileobj.read(fetch.CHUNK_SIZE):  # to the end: checks the gzip CRC and length
                pass
        if not written:
            what = f"{archive} holds no audio file in <speaker>/ folders: it is not the data"
            raise DownloadError(what, kind="corrupt")
    except Exception as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(exc, DownloadError):
            raise
        if isinstance(exc, tarfile.TarError | EOFError | zlib.error | gzip.BadGzipFile):
            what = f"{archive} is truncated or corrupt, or holds an unsafe member ({exc!r})"
            raise DownloadError(what, kind="corrupt") from exc
        raise DownloadError(f"Unpacking {archive} failed ({exc})", kind="local") from exc


def _remember(url: str, why: str | None = None, *, read: bool = False) -> str | None:
    """Record (``why``) or forget (``None``) that ``url`` failed in this runtime; ``read``: why."""
    log = Path(tempfile.gettempdir()) / FAILURES_FILE
    try:
        failures = json.loads(log.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        failures = {}
    if not read and failures.get(url) != why:
        failures.pop(url, None) if why is None else failures.update({url: why})
        log.write_text(json.dumps(failures, indent=1), encoding="utf-8")
    return failures.get(url) if read else None


def tier_sources(
    tier: str, source: str, url: str | None, sha256: str | None, test_clean: bool
) -> list[list[Source]]:
    """Per archive of the tier, its :class:`Source` list in the order tried; a mirror ``url``
    (a file: the first archive; a folder ``.../``: all) comes first, checked against ``sha256``."""
    if source not in SOURCES:
        what = f"source must be one of {', '.join(SOURCES)}, not {source!r}"
        raise DownloadError(what, kind="usage")
    if tier == "small":
        dev = Source("openslr", "OpenSLR (dev-clean)", DEV_CLEAN_URL, "dev-clean.tar.gz")
        test = Source("openslr", "OpenSLR (test-clean)", TEST_CLEAN_URL, "test-clean.tar.gz")
        plan = [[dev._replace(sha256=DEV_CLEAN_SHA256)], [test._replace(sha256=TEST_CLEAN_SHA256)]]
        plan = plan[: 1 + test_clean]
    elif tier == "full":
        drive = Source("drive", "Google Drive", f"drive:{DRIVE_FILE_ID}", ARCHIVE_NAME)
        gcs = Source("gcs", "Cloud Storage", GCS_URL, ARCHIVE_NAME)
        slr = Source("openslr", "OpenSLR (train-clean-100)", OPENSLR_URL, OPENSLR_ARCHIVE_NAME)
        every = [drive, gcs, slr._replace(sha256=OPENSLR_SHA256)]
        plan = [[s for s in every if source in ("auto", s.label)]]
    else:
        raise DownloadError(f"tier must be small or full to download, not {tier!r}", kind="usage")
    url, sha256 = url or os.environ.get(MIRROR_ENV), sha256 or os.environ.get(SHA256_ENV)
    if not url:
        plan[0] = [s._replace(sha256=sha256 or s.sha256) for s in plan[0]]
        return plan
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"--url must be an http:// or https:// URL, not {url!r}", kind="usage")
    for i, part in enumerate(plan if url.endswith("/") else plan[:1]):
        link = url + part[0].archive if url.endswith("/") else url
        same_name = PurePosixPath(urllib.parse.urlsplit(link).path).name == part[0].archive
        known = (sha256 if i == 0 else None) or (part[0].sha256 if same_name else None)
        part.insert(0, part[0]._replace(label="url", title="the mirror", url=link, sha256=known))
    return plan


def _fetch_part(
    part: list[Source], root: Path, folder: Path, retry: bool, quiet: bool
) -> tuple[str, Path]:
    """Unpack ``part``'s archive from ``folder``, else the first source that works."""
    for src in part:
        if (path := folder / src.archive).is_file():
            say(f"Found {path}; checking it.", quiet)
            try:
                _unpack(path, root, src.sha256, quiet)
                return "earlier-download", path
            except DownloadError as exc:
                if exc.kind not in ("corrupt", "checksum", "quota"):
                    raise
                say(f"It is not usable, so it is deleted and downloaded again: {exc}", quiet)
                path.unlink()
    failures: list[DownloadError] = []
    for i, src in enumerate(part):
        path = folder / src.archive
        try:
            if why := None if retry else _remember(src.url, read=True):
                what = f"it failed earlier in this runtime ({why}); --retry tries it again"
                raise DownloadError(what, kind="remembered")
            say(f"Downloading {src.archive} from {src.title}...", quiet)
            try:
                if src.url.startswith("drive:"):
                    download_drive(src.url.removeprefix("drive:"), path, quiet=quiet)
                else:
                    download_http(src.url, path, quiet=quiet)
                _unpack(path, root, src.sha256, quiet)
            except DownloadError as exc:
                if exc.kind not in _FINAL:
                    _remember(src.url, exc.summary if exc.kind in _REMEMBERED else None)
                    path.unlink(missing_ok=True)  # a whole but bad file (a resumable .part stays)
                raise
            _remember(src.url, None)
            return src.label, path
        except DownloadError as exc:
            if exc.kind in _FINAL:
                raise
            verb = "skipped" if exc.kind == "remembered" else "failed"
            summary = f"{src.title} {verb}: {exc.summary}"
            failures.append(DownloadError(summary, exc.next_step, exc.kind))
            if i + 1 < len(part):
                line = f"{failures[-1].summary}. Trying {part[i + 1].title} next."
                print(line[0].upper() + line[1:], file=sys.stderr, flush=True)
    if len(failures) == 1:
        raise failures[0]
    offline = all(e.kind in ("dns", "offline", "timeout") for e in failures)
    why = " (none could be reached: is this machine online?)" if offline else ""
    steps = " ".join(dict.fromkeys(e.next_step.rstrip(".") + "." for e in failures if e.next_step))
    listing = "".join(f"\n  - {e.summary}" for e in failures)
    raise DownloadError(f"Every source failed{why}:{listing}", steps)


def _prepare(dest: Path, quiet: bool) -> bool:
    """Whether ``dest`` is complete; else refuse a foreign one, make its parent, clear stale."""
    if has_dataset(dest):
        say(f"{dest} already holds a complete data set ({_describe(dest)}); nothing to do.", quiet)
        return True
    if dest.exists() and not dest.is_dir():
        raise DownloadError(f"{dest} is not a folder", "Remove it, or pass another --dest", "usage")
    if dest.is_dir() and any(dest.iterdir()):
        marker = dest / paths.COMPLETE_MARKER
        what = f"{dest} exists but is not a complete data set (no {marker.name} marker or no"
        step = f"If you unpacked the data yourself, create an empty file {marker}; else delete"
        step += " the folder and run again, or pass another --dest"
        raise DownloadError(f"{what} speaker folder), so it is left untouched", step, "local")
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.partial-*"):
        say(f"Removing {stale}, left over by an interrupted run.", quiet)
        shutil.rmtree(stale, ignore_errors=True)
    return False


def fetch_tier(
    tier: str = "full",
    dest: str | os.PathLike | None = None,
    *,
    archive_dir: str | os.PathLike | None = None,
    url: str | None = None,
    with_test_clean: bool = False,
    quiet: bool = False,
    source: str = "auto",
    archive: str | os.PathLike | None = None,
    sha256: str | None = None,
    keep_archive: bool = False,
    retry: bool = False,
) -> Path:
    """Unpack a tier into ``dest`` (default :func:`tier_folder`) and return it: each archive from
    ``archive_dir`` if it verifies, else downloaded source after source (one that failed in this
    runtime skipped unless ``retry``; ``.part`` files resumed), or ``archive``; all unpacked into a
    hidden folder renamed to ``dest`` at the end. :class:`DownloadError` says what to do."""
    dest = Path(dest).expanduser().absolute() if dest is not None else tier_folder(tier)
    if tier == "synthetic":
        return make_synthetic(dest, quiet=quiet)
    if archive is not None and url:
        raise DownloadError("pass either --url or --archive, not both", kind="usage")
    plan = tier_sources(tier, source, url, sha256, with_test_clean)
    if archive is not None and not Path(archive).expanduser().is_file():
        raise DownloadError(f"--archive {archive}: no such file", kind="usage")
    if _prepare(dest, quiet):
        return dest
    folder = Path(archive_dir or dest.parent).expanduser().absolute()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        if archive is not None:
            results = [("archive", Path(archive).expanduser().absolute())]
            _unpack(results[0][1], tmp, sha256, quiet)
        else:
            results = [_fetch_part(part, tmp, folder, retry, quiet) for part in plan]
        speakers = [p for p in tmp.iterdir() if p.is_dir()]
        files = sum(paths.is_audio_file(f) for p in speakers for f in p.iterdir())
        labels, names = "+".join(r[0] for r in results), "+".join(r[1].name for r in results)
        info = f"tier={tier} source={labels} speakers={len(speakers)} files={files} archive={names}"
        (tmp / paths.COMPLETE_MARKER).write_text(info + "\n")  # the folder's last file
        tmp.chmod(dest.parent.stat().st_mode & 0o777)  # mkdtemp makes it private
        if dest.exists():
            dest.rmdir()  # empty, checked by _prepare
        tmp.rename(dest)  # the last step, atomic
    except DownloadError as exc:
        if exc.kind in _FINAL or archive is not None:
            raise
        options = ["--tier", tier, *(["--url", url] if url else []), "--retry"]
        options += ["--dest", str(dest)] if dest != tier_folder(tier) else []
        options += ["--with-test-clean"] if with_test_clean else []
        official = next(s for s in plan[0] if s.label != "url")
        where = DRIVE_VIEW_URL if tier == "full" else official.url
        alone = f", or one source alone: `{download_command('--source', 'gcs')}`"
        alone = alone if tier == "full" else ""
        advice = (
            f"You can also download {official.archive} in your browser from {where} and pass "
            f"`--archive path/to/{official.archive}`{alone}. Sources that failed are skipped on a "
            f"re-run in this runtime; to try them again: `{download_command(*options)}`."
        )
        steps = ". ".join(filter(None, [exc.next_step.rstrip("."), advice]))
        raise DownloadError(exc.summary, steps, exc.kind) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already if renamed
    say(f"Data set ready in {dest} ({_describe(dest)}).", quiet)
    for _, path in results if archive is None else []:
        for leftover in path.parent.glob(f"{path.name}.*part*"):  # e.g. gdown's after a fallback
            leftover.unlink()
        if not (keep_archive or archive_dir):
            path.unlink(missing_ok=True)
            say(f"Deleted {path} (pass --keep-archive to keep it).", quiet)
    return dest


def make_synthetic(
    dest: str | os.PathLike | None = None, *, quiet: bool = False, **options: float | None
) -> Path:
    """Make the synthetic corpus in ``dest`` unless there; ``options`` over SYNTHETIC_OPTIONS."""
    dest = Path(dest).expanduser().absolute() if dest is not None else tier_folder("synthetic")
    if _prepare(dest, quiet):
        return dest
    from .synthetic import make_synthetic_corpus  # numpy, scipy and soundfile: only when needed

    options = SYNTHETIC_OPTIONS | {k: v for k, v in options.items() if v is not None}
    try:
        path = Path(make_synthetic_corpus(dest, **options, progress=not quiet))
    except ValueError as exc:
        raise DownloadError(str(exc), kind="usage") from exc
    say(f"Synthetic corpus ready in {path} ({_describe(path)}).", quiet)
    return path
