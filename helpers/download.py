"""Download the course data set and unpack it safely: the logic behind ``data_download.py``.

The real data set is a ~5.5 GB tarball, ``train-dataset.tar.gz``, whose members are
``train-dataset/<speaker id>/*.flac``. It is unpacked to ``<dest>/<speaker id>/*.flac`` (``dest``
defaults to ``train-dataset/`` at the repository root, next to ``notebooks/``).

Where it comes from, each source tried when the previous one fails:

1. Google Drive, through ``gdown`` (resumable);
2. the public Cloud Storage copy, over plain HTTPS with HTTP ``Range`` resume.

Alternatives: ``--source openslr`` (LibriSpeech train-clean-100, rebuilt into the same flat layout),
``--url URL`` (a mirror), ``--archive FILE`` (a tarball you already have) and ``--synthetic`` (a
small synthetic corpus, see :mod:`helpers.synthetic`).

Safety: downloads go to ``<name>.part`` and are renamed once complete; the archive is checked (gzip
magic, readable tar, sha256 when known, enough disk space) before unpacking; members are filtered
(no absolute paths, no ``..``, no links leading out); everything is unpacked into a hidden temporary
sibling folder that is renamed into place only when complete, with a ``.complete`` marker. A second
run finds the marker and does nothing.

Command line::

    python data_download.py [--dest DIR] [--source {auto,drive,gcs,openslr} | --url URL |
                             --archive FILE | --synthetic] [--sha256 HEX] [--keep-archive] [--quiet]
"""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import http.client
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm.auto import tqdm

DRIVE_FILE_ID = "1-6Soa4dM9nQi-hjoz021H2aEdhw-3MV9"
"""Google Drive id of ``train-dataset.tar.gz``."""
DRIVE_VIEW_URL = f"https://drive.google.com/file/d/{DRIVE_FILE_ID}/view"
GCS_BUCKET = "data_ecoleit"
GCS_OBJECT = "Copie de train-dataset.tar.gz"
GCS_URL = "https://storage.googleapis.com/data_ecoleit/Copie%20de%20train-dataset.tar.gz"
"""Public Cloud Storage copy of the same tarball (``GCS_BUCKET`` / ``GCS_OBJECT``)."""
OPENSLR_URL = "https://www.openslr.org/resources/12/train-clean-100.tar.gz"
OPENSLR_SHA256 = "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2"

ARCHIVE_NAME = "train-dataset.tar.gz"
OPENSLR_ARCHIVE_NAME = "train-clean-100.tar.gz"
MARKER = ".complete"
"""File written last into a finished data set folder (the same marker as :mod:`helpers.synthetic`)."""
AUDIO_SUFFIXES = (".flac", ".wav")
LAYOUTS = ("flat", "librispeech")
SOURCES = ("auto", "drive", "gcs", "openslr")
SOURCE_TITLES = {
    "drive": "Google Drive",
    "gcs": "Cloud Storage",
    "openslr": "OpenSLR (LibriSpeech)",
    "url": "the mirror URL",
}

EXTRACT_SPACE_FACTOR = 2.2
"""Free space needed to unpack, as a multiple of the archive size (generous: FLAC barely gzips)."""
DOWNLOAD_RETRIES = 3
"""How many times an interrupted HTTP download is resumed before giving up."""
RETRY_WAIT_SECONDS = 2.0
"""First wait before resuming an interrupted HTTP download (doubled at each retry)."""
CHUNK_SIZE = 1 << 20
USER_AGENT = "audio-course-data-download/1.0 (+python-urllib)"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class DownloadError(RuntimeError):
    """A download, check or unpacking failed; the message says which file or URL, and what to do."""


class UsageError(DownloadError):
    """The request itself is wrong (missing file, bad URL, conflicting options)."""


class CorruptArchiveError(DownloadError):
    """The archive is not a complete, readable ``.tar.gz`` (or not the expected one)."""


class _Interrupted(Exception):
    """An HTTP transfer stopped early; it can be resumed."""


# --------------------------------------------------------------------------------------------------
# small utilities


def _say(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(message, flush=True)


def _human(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n_bytes) < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    raise AssertionError("unreachable")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def default_dest() -> Path:
    """Return the default data folder: ``train-dataset/`` at the repository root.

    The repository root is the folder holding ``data_download.py``: the parent of this package
    (editable install or checkout), else the current folder or one of its parents.

    Returns
    -------
    pathlib.Path
        ``<repo root>/train-dataset``, or ``./train-dataset`` if no root is found.
    """
    cwd = Path.cwd().resolve()
    for root in (Path(__file__).resolve().parent.parent, cwd, *cwd.parents):
        if (root / "data_download.py").is_file():
            return root / "train-dataset"
    return cwd / "train-dataset"


def is_complete(dest: str | os.PathLike) -> bool:
    """Tell whether ``dest`` holds a completely unpacked data set.

    Parameters
    ----------
    dest : path
        Data set folder.

    Returns
    -------
    bool
        True if ``dest/.complete`` exists and ``dest`` has at least one speaker folder.
    """
    dest = Path(dest)
    if not (dest / MARKER).is_file():
        return False
    return any(p.is_dir() and not p.name.startswith(".") for p in dest.iterdir())


def _describe(dest: Path) -> str:
    try:
        return (dest / MARKER).read_text(encoding="utf-8").strip() or "no details"
    except OSError:
        return "no details"


def _check_dest_free(dest: Path) -> None:
    """Refuse to overwrite a non-empty folder that is not a completed data set."""
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} exists and is not a folder. Remove it, or pass another --dest.")
    if dest.is_dir() and any(dest.iterdir()):
        raise DownloadError(
            f"{dest} already exists but is not a complete data set (it has no {MARKER} marker "
            "file), so it is left untouched. If you unpacked the data yourself and it is complete, "
            f"create an empty file {dest / MARKER}; otherwise delete the folder and run the "
            "command again, or pass another --dest."
        )


# --------------------------------------------------------------------------------------------------
# checks


def check_free_space(
    folder: str | os.PathLike, needed_bytes: int, purpose: str = "unpacking the data set"
) -> None:
    """Raise :class:`DownloadError` if ``folder``'s disk has less than ``needed_bytes`` free.

    Parameters
    ----------
    folder : path
        An existing folder on the disk to check.
    needed_bytes : int
        Bytes that must be free.
    purpose : str
        What the space is for, for the error message.

    Raises
    ------
    DownloadError
        Naming the folder, the space needed and the space free.
    """
    free = shutil.disk_usage(folder).free
    if free < needed_bytes:
        raise DownloadError(
            f"Not enough free disk space in {folder}: {purpose} needs about "
            f"{_human(needed_bytes)} but only {_human(free)} is free. Free some space, or pass "
            "--dest to put the data on a disk with more room."
        )


def verify_sha256(path: str | os.PathLike, expected: str, quiet: bool = False) -> None:
    """Check a file's SHA-256 checksum.

    Parameters
    ----------
    path : path
        File to hash.
    expected : str
        Expected hex digest (case-insensitive).
    quiet : bool
        Hide the progress bar.

    Raises
    ------
    CorruptArchiveError
        If the digests differ.
    """
    path = Path(path)
    digest = hashlib.sha256()
    with (
        open(path, "rb") as fh,
        tqdm(
            total=path.stat().st_size,
            desc=f"Checking {path.name}",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=quiet,
        ) as bar,
    ):
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
            bar.update(len(chunk))
    if digest.hexdigest() != expected.strip().lower():
        raise CorruptArchiveError(
            f"{path} has SHA-256 {digest.hexdigest()}, not the expected {expected.lower()}: the "
            "download is corrupt or is not the file you meant. Delete it and download it again, "
            "or check the checksum you passed with --sha256."
        )


def _html_message(path: Path) -> str:
    return (
        f"{path} is an HTML web page, not the .tar.gz archive. Google Drive sends such a page "
        "instead of the file when the file's download quota is exceeded ('Too many users have "
        "viewed or downloaded this file recently') or when it wants you to confirm a virus "
        "scan; a mirror URL that points at a web page rather than the file does the same. "
        "Retry in a few hours, or use another source: `python data_download.py --source gcs`, "
        "`--url URL` with a direct link to the file, or download it in your browser from "
        f"{DRIVE_VIEW_URL} and pass `--archive path/to/{ARCHIVE_NAME}`."
    )


def check_archive(path: str | os.PathLike) -> None:
    """Check that ``path`` looks like a gzip-compressed tar archive.

    Reads only the beginning of the file: gzip magic bytes ``1f 8b``, then the first tar member.
    A truncated archive is caught later, while unpacking.

    Parameters
    ----------
    path : path
        Archive to check.

    Raises
    ------
    CorruptArchiveError
        If the file is empty, an HTML page (a Google Drive quota or virus-scan page), not gzip
        or not a tar archive.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(2048)
    if not head:
        raise CorruptArchiveError(f"{path} is empty. Delete it and download it again.")
    if head[:2] != b"\x1f\x8b":
        lowered = head.lower()
        if b"<html" in lowered or b"<!doctype" in lowered:
            raise CorruptArchiveError(_html_message(path))
        raise CorruptArchiveError(
            f"{path} is not a gzip file (it starts with bytes {head[:4].hex(' ')}, not 1f 8b), so "
            "it is not the data set's .tar.gz. Delete it and download it again, or pass the right "
            "file with --archive."
        )
    try:
        with tarfile.open(path, "r:gz") as tar:
            if tar.next() is None:
                raise CorruptArchiveError(f"{path} is an empty tar archive. Download it again.")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise CorruptArchiveError(
            f"{path} is gzip-compressed but not a readable tar archive ({exc}). Delete it and "
            "download it again."
        ) from exc


# --------------------------------------------------------------------------------------------------
# downloads


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """Parse ``bytes START-END/TOTAL`` or ``bytes */TOTAL`` into ``(START, TOTAL)``."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", header or "")
    if not match:
        return None, None
    start, total = match.groups()
    return (int(start) if start else None), (int(total) if total != "*" else None)


def _http_attempt(
    url: str, part: Path, extra_space_factor: float, quiet: bool, timeout: float
) -> None:
    """Fetch ``url`` into ``part``, resuming from its current size; raise ``_Interrupted``."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            if _content_range(exc.headers.get("Content-Range"))[1] == offset:
                return  # the partial file is already whole
            _unlink(part)
            raise _Interrupted(
                "the partial file does not match the server's; starting over"
            ) from exc
        if exc.code in (408, 429) or exc.code >= 500:
            raise _Interrupted(f"the server answered HTTP {exc.code} {exc.reason}") from exc
        raise DownloadError(
            f"{url} answered HTTP {exc.code} ({exc.reason}). Check the URL; if the file has moved "
            "or been removed, try another source (--source, --url, or download it yourself and "
            "pass --archive)."
        ) from exc
    except OSError as exc:  # URLError, timeouts, refused connections
        reason = getattr(exc, "reason", exc)
        raise _Interrupted(f"could not reach {url} ({reason})") from exc

    with response:
        if response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                _unlink(part)
                raise _Interrupted("the server resumed at the wrong offset; starting over")
            mode = "ab"
        else:
            if offset:
                _say(
                    "The server cannot resume downloads; starting again from the beginning.", quiet
                )
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        if total is not None:
            needed = total - offset + int(extra_space_factor * total)
            check_free_space(part.parent, needed, "downloading and unpacking the data set")
        try:
            with (
                open(part, mode) as fh,
                tqdm(
                    total=total,
                    initial=offset,
                    desc=f"Downloading {part.name.removesuffix('.part')}",
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    disable=quiet,
                ) as bar,
            ):
                while True:
                    try:
                        chunk = response.read(CHUNK_SIZE)
                    except (OSError, http.client.HTTPException) as exc:
                        raise _Interrupted(f"the connection broke ({exc!r})") from exc
                    if not chunk:
                        break
                    fh.write(chunk)
                    bar.update(len(chunk))
        except OSError as exc:
            raise DownloadError(
                f"Could not write {part} ({exc}). Check the folder's permissions and free space."
            ) from exc

    size = part.stat().st_size
    if total is not None and size < total:
        raise _Interrupted(f"the connection closed after {_human(size)} of {_human(total)}")
    if total is not None and size > total:
        _unlink(part)
        raise DownloadError(
            f"{part} grew larger than the {_human(total)} announced by {url}; it was deleted. "
            "Run the command again."
        )


def download_http(
    url: str,
    dest_file: str | os.PathLike,
    *,
    retries: int | None = None,
    extra_space_factor: float = 0.0,
    quiet: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest_file`` over HTTP(S), resuming interrupted transfers.

    Bytes go to ``<dest_file>.part``; an existing ``.part`` is resumed with an HTTP ``Range``
    request, and it is renamed to ``dest_file`` only once complete.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL.
    dest_file : path
        Final file name.
    retries : int, optional
        How many times a broken transfer is resumed in this call (default ``DOWNLOAD_RETRIES``).
    extra_space_factor : float
        Also require ``extra_space_factor * size`` free bytes beyond the download itself (room to
        unpack it later).
    quiet : bool
        Hide the progress bar and messages.
    timeout : float
        Socket timeout (s).

    Returns
    -------
    pathlib.Path
        ``dest_file``.

    Raises
    ------
    DownloadError
        On an HTTP error, or when the transfer keeps breaking (the ``.part`` file is then kept, and
        running again resumes it).
    """
    dest_file = Path(dest_file)
    part = dest_file.with_name(dest_file.name + ".part")
    retries = DOWNLOAD_RETRIES if retries is None else retries
    for attempt in range(retries + 1):
        try:
            _http_attempt(url, part, extra_space_factor, quiet, timeout)
            break
        except _Interrupted as exc:
            if attempt == retries:
                kept = part.stat().st_size if part.is_file() else 0
                where = f"The {_human(kept)} received so far are kept in {part}; " if kept else ""
                raise DownloadError(
                    f"Downloading {url} failed: {exc}. {where}Check your connection and run the "
                    "same command again to resume, or try another source."
                ) from exc
            wait = RETRY_WAIT_SECONDS * 2**attempt
            _say(f"{exc}; resuming in {wait:.0f} s (retry {attempt + 1} of {retries}).", quiet)
            time.sleep(wait)
    os.replace(part, dest_file)
    return dest_file


def download_drive(file_id: str, dest_file: str | os.PathLike, quiet: bool = False) -> Path:
    """Download a Google Drive file with ``gdown`` (resumable), to ``dest_file``.

    ``gdown`` writes to its own ``.part`` file next to ``dest_file`` and resumes it on the next run.

    Parameters
    ----------
    file_id : str
        Google Drive file id.
    dest_file : path
        Final file name.
    quiet : bool
        Hide gdown's messages and progress bar.

    Returns
    -------
    pathlib.Path
        ``dest_file``.

    Raises
    ------
    DownloadError
        If gdown is missing or the download fails (typically Drive's download quota).
    """
    dest_file = Path(dest_file)
    help_text = (
        "Google Drive limits how often a shared file may be downloaded; when too many people "
        "fetched it recently it refuses for a while. Retry later, or use another source: "
        "`--source gcs`, `--url URL`, or download it in your browser from "
        f"https://drive.google.com/file/d/{file_id}/view and pass `--archive FILE`."
    )
    try:
        import gdown
    except ImportError as exc:
        raise DownloadError(f"gdown is not installed (pip install gdown). {help_text}") from exc
    output = dest_file.with_name(dest_file.name + ".drive.part")  # gdown's own temp files start so
    try:
        result = gdown.download(id=file_id, output=str(output), quiet=quiet, resume=True)
    except Exception as exc:  # gdown raises many kinds: quota, network, HTTP...
        raise DownloadError(f"Downloading Drive file {file_id} failed: {exc} {help_text}") from exc
    if result is None or not output.is_file():
        raise DownloadError(f"Downloading Drive file {file_id} failed. {help_text}")
    os.replace(output, dest_file)
    return dest_file


def download_gcs(dest_file: str | os.PathLike, quiet: bool = False) -> Path:
    """Download the public Cloud Storage copy of the data set (``GCS_URL``) to ``dest_file``.

    Parameters
    ----------
    dest_file : path
        Final file name.
    quiet : bool
        Hide the progress bar and messages.

    Returns
    -------
    pathlib.Path
        ``dest_file``.
    """
    return download_http(GCS_URL, dest_file, extra_space_factor=EXTRACT_SPACE_FACTOR, quiet=quiet)


def _download_from(source: str, dest_file: Path, url: str | None, quiet: bool) -> None:
    if source == "drive":
        download_drive(DRIVE_FILE_ID, dest_file, quiet=quiet)
    elif source == "gcs":
        download_gcs(dest_file, quiet=quiet)
    elif source == "openslr":
        download_http(OPENSLR_URL, dest_file, extra_space_factor=EXTRACT_SPACE_FACTOR, quiet=quiet)
    elif source == "url" and url:
        download_http(url, dest_file, extra_space_factor=EXTRACT_SPACE_FACTOR, quiet=quiet)
    else:
        raise UsageError(f"unknown source {source!r}")


# --------------------------------------------------------------------------------------------------
# unpacking


def _parts(name: str) -> list[str]:
    return [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]


def _check_member(member: tarfile.TarInfo, root: Path, archive: Path) -> None:
    """Refuse absolute paths, ``..`` and links that lead out of ``root``."""
    name = member.name
    problem = None
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        problem = "an absolute path"
    elif ".." in _parts(name):
        problem = "a '..' path component"
    elif member.issym() or member.islnk():
        link = member.linkname
        base = root / PurePosixPath(name).parent if member.issym() else root
        target = os.path.normpath(os.path.join(base, link))
        if link.startswith(("/", "\\")) or not target.startswith(str(root) + os.sep):
            problem = f"a link pointing outside the folder ({link!r})"
    if problem:
        raise CorruptArchiveError(
            f"{archive} contains an unsafe member {name!r} ({problem}); refusing to unpack it, and "
            "nothing was written. This is not the course data set, or it was tampered with: "
            "delete it and download it again from one of the official sources."
        )


def _target_name(name: str, layout: str) -> str | None:
    """Where a member goes in the flat layout (``<speaker>/<file>``), or None to skip it."""
    parts = _parts(name)
    depth = 3 if layout == "librispeech" else 2  # <speaker>/<chapter>/<file> or <speaker>/<file>
    if len(parts) < depth:
        return None
    speaker, file_name = parts[-depth], parts[-1]
    if file_name.startswith(".") or speaker.startswith(".") or "__MACOSX" in parts:
        return None
    if not file_name.lower().endswith(AUDIO_SUFFIXES):
        return None
    return f"{speaker}/{file_name}"


def detect_layout(archive: str | os.PathLike) -> str:
    """Guess an archive's layout from its first audio member.

    Parameters
    ----------
    archive : path
        A ``.tar.gz`` archive.

    Returns
    -------
    str
        ``"librispeech"`` if audio files sit in ``<speaker>/<chapter>/<speaker>-<chapter>-*``
        folders (as in LibriSpeech), else ``"flat"``.
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for _, member in zip(range(2000), tar):
                parts = _parts(member.name)
                if parts and parts[0] == "LibriSpeech":
                    return "librispeech"
                if member.isreg() and parts[-1].lower().endswith(AUDIO_SUFFIXES):
                    if len(parts) >= 3 and parts[-1].startswith(f"{parts[-3]}-{parts[-2]}-"):
                        return "librispeech"
                    return "flat"
    except (tarfile.TarError, EOFError, zlib.error, OSError):
        pass  # unpacking reports it properly
    return "flat"


def _unpack(archive: Path, root: Path, layout: str, quiet: bool) -> None:
    """Unpack the audio files of ``archive`` into ``root/<speaker>/<file>``."""
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4
    with (
        tarfile.open(archive, "r:gz") as tar,
        tqdm(desc=f"Unpacking {archive.name}", unit=" members", disable=quiet) as bar,
    ):
        for member in tar:
            bar.update()
            _check_member(member, root, archive)
            target = _target_name(member.name, layout) if member.isreg() else None
            if target is None:
                continue
            renamed = copy.copy(member)
            renamed.name = target
            tar.extract(renamed, root, **safe)
        while tar.fileobj.read(CHUNK_SIZE):  # read to the end: checks the gzip CRC and length
            pass


def _count(root: Path) -> tuple[int, int]:
    speakers = files = 0
    for folder in root.iterdir():
        if folder.is_dir():
            n = sum(1 for f in folder.iterdir() if f.suffix.lower() in AUDIO_SUFFIXES)
            speakers += n > 0
            files += n
    return speakers, files


def extract_archive(
    archive: str | os.PathLike,
    dest: str | os.PathLike,
    layout: str = "flat",
    *,
    source: str = "archive",
    quiet: bool = False,
) -> Path:
    """Unpack a data set archive into ``dest/<speaker>/<file>``, atomically.

    Audio files are unpacked into a hidden temporary sibling of ``dest`` (``.<dest>.partial-*``),
    which gets a ``.complete`` marker and is renamed to ``dest`` only when everything worked; on any
    failure it is deleted, so ``dest`` is either absent or complete. Other files (transcripts,
    READMEs) are skipped; unsafe members make the whole archive be refused.

    Parameters
    ----------
    archive : path
        A ``.tar.gz`` file.
    dest : path
        Folder to create; it must not exist, or be empty.
    layout : {"flat", "librispeech"}
        ``.../<speaker>/<file>`` (the course archive, whatever its top folder) or
        ``.../<speaker>/<chapter>/<file>`` (LibriSpeech). File names are kept.
    source : str
        Recorded in the marker file.
    quiet : bool
        Hide the progress bar.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    CorruptArchiveError
        Truncated or corrupt archive, unsafe member, or no audio file in it.
    DownloadError
        ``dest`` is not empty, or writing failed (disk full, permissions).
    """
    archive, dest = Path(archive), Path(dest)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    _check_dest_free(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        try:
            _unpack(archive, tmp, layout, quiet)
        except getattr(tarfile, "FilterError", ()) as exc:  # tarfile's "data" filter refused it
            raise CorruptArchiveError(
                f"{archive} contains an unsafe member ({exc}); refusing to unpack it. Delete it "
                "and download it again from one of the official sources."
            ) from exc
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise CorruptArchiveError(
                f"{archive} is truncated or corrupt ({exc!r}); nothing was unpacked. Delete it and "
                "download it again."
            ) from exc
        except OSError as exc:
            raise DownloadError(
                f"Unpacking {archive} into {dest.parent} failed ({exc}); nothing was kept. Check "
                "the free disk space and the folder's permissions, then run the command again."
            ) from exc
        speakers, files = _count(tmp)
        if files == 0:
            raise CorruptArchiveError(
                f"{archive} holds no audio file under <speaker>/ folders: it is not the data set. "
                "Pass the right file, or download it again."
            )
        (tmp / MARKER).write_text(
            f"source={source} speakers={speakers} files={files} archive={archive.name}\n",
            encoding="utf-8",
        )
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private
        if dest.exists():
            dest.rmdir()  # empty, checked above
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already if renamed
    return dest


# --------------------------------------------------------------------------------------------------
# the whole job


def _remove_stale_partials(dest: Path, quiet: bool) -> None:
    for stale in dest.parent.glob(f".{dest.name}.partial-*"):
        _say(f"Removing {stale}, left over by an interrupted run.", quiet)
        shutil.rmtree(stale, ignore_errors=True)


def _validate(path: Path, sha256: str | None, quiet: bool) -> None:
    check_archive(path)
    if sha256:
        verify_sha256(path, sha256, quiet=quiet)


def _obtain(
    dest: Path, source: str, url: str | None, sha256: str | None, quiet: bool
) -> tuple[Path, str]:
    """Download (or reuse) the archive next to ``dest``; return its path and source label."""
    name = OPENSLR_ARCHIVE_NAME if source == "openslr" else ARCHIVE_NAME
    path = dest.parent / name
    if path.is_file():
        _say(f"Found {path} from an earlier download; checking it.", quiet)
        try:
            _validate(path, sha256, quiet)
            return path, "earlier-download"
        except DownloadError as exc:
            _say(f"It is not usable, so it is deleted and downloaded again: {exc}", quiet)
            _unlink(path)
    order = ["drive", "gcs"] if source == "auto" else [source]
    failures = []
    for i, name in enumerate(order):
        _say(f"Downloading the data set from {SOURCE_TITLES[name]}...", quiet)
        try:
            _download_from(name, path, url, quiet)
            _validate(path, sha256, quiet)
            return path, name
        except UsageError:
            raise
        except DownloadError as exc:
            _unlink(path)  # a complete but bad file; resumable .part files are kept
            if len(order) == 1:
                raise
            failures.append(f"[{SOURCE_TITLES[name]}] {exc}")
            if i + 1 < len(order):
                print(
                    f"{SOURCE_TITLES[name]} failed: {exc}\n"
                    f"Trying {SOURCE_TITLES[order[i + 1]]} instead.",
                    file=sys.stderr,
                    flush=True,
                )
    raise DownloadError("Every source failed. " + " ".join(failures))


def fetch(
    dest: str | os.PathLike | None = None,
    *,
    source: str = "auto",
    url: str | None = None,
    archive: str | os.PathLike | None = None,
    sha256: str | None = None,
    keep_archive: bool = False,
    quiet: bool = False,
) -> Path:
    """Make sure ``dest`` holds the unpacked data set: download, check and unpack it if needed.

    Does nothing if ``dest`` is already complete. A downloaded archive is deleted once unpacked
    (unless ``keep_archive``); an archive passed with ``archive`` is never deleted.

    Parameters
    ----------
    dest : path, optional
        Data set folder (default :func:`default_dest`). Archives are downloaded next to it.
    source : {"auto", "drive", "gcs", "openslr"}
        ``"auto"`` tries Google Drive, then Cloud Storage. Ignored with ``url`` or ``archive``.
    url : str, optional
        Download from this HTTP(S) mirror instead.
    archive : path, optional
        Unpack this already downloaded ``.tar.gz`` instead of downloading.
    sha256 : str, optional
        Expected checksum of the archive (OpenSLR's is known).
    keep_archive : bool
        Keep the downloaded archive after unpacking.
    quiet : bool
        Hide progress bars and messages.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    UsageError
        Bad arguments (unknown source, non-HTTP URL, missing archive file).
    DownloadError
        Anything else that failed; the message names the file or URL and what to do.
    """
    dest = Path(dest).expanduser().absolute() if dest is not None else default_dest()
    if source not in SOURCES:
        raise UsageError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise UsageError(f"--url must be an http:// or https:// URL, not {url!r}")
    if url is not None and archive is not None:
        raise UsageError("pass either --url or --archive, not both")
    if is_complete(dest):
        _say(
            f"{dest} already holds a complete data set ({_describe(dest)}); nothing to do. "
            "Delete the folder to download it again.",
            quiet,
        )
        return dest
    _check_dest_free(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"Cannot create {dest.parent} ({exc}). Pass another --dest.") from exc
    _remove_stale_partials(dest, quiet)

    if archive is not None:
        path, label, ours = Path(archive).expanduser().absolute(), "archive", False
        if not path.is_file():
            raise UsageError(f"--archive {path}: no such file.")
        _validate(path, sha256, quiet)
    else:
        if url is not None:
            source = "url"
        expected = sha256 or (OPENSLR_SHA256 if source == "openslr" else None)
        path, label = _obtain(dest, source, url, expected, quiet)
        ours = True

    size = path.stat().st_size
    check_free_space(dest.parent, int(EXTRACT_SPACE_FACTOR * size), f"unpacking {path.name}")
    layout = "librispeech" if source == "openslr" else detect_layout(path)
    try:
        extract_archive(path, dest, layout, source=label, quiet=quiet)
    except CorruptArchiveError as exc:
        if not ours:
            raise
        _unlink(path)
        raise CorruptArchiveError(f"{exc} (It was deleted; run the command again.)") from exc
    _say(f"Data set ready in {dest} ({_describe(dest)}).", quiet)
    if ours:
        for leftover in path.parent.glob(f"{path.name}.*part*"):  # e.g. gdown's after a fallback
            _unlink(leftover)
    if ours and not keep_archive:
        _unlink(path)
        _say(f"Deleted {path} (pass --keep-archive to keep it).", quiet)
    return dest


def make_synthetic(
    dest: str | os.PathLike | None = None,
    *,
    n_speakers: int | None = None,
    files_per_speaker: int | None = None,
    seed: int | None = None,
    quiet: bool = False,
) -> Path:
    """Write the small synthetic corpus of :mod:`helpers.synthetic` to ``dest`` (if not done yet).

    Parameters
    ----------
    dest : path, optional
        Corpus folder (default :func:`default_dest`).
    n_speakers, files_per_speaker, seed : int, optional
        Passed to :func:`helpers.synthetic.make_synthetic_corpus` when given.
    quiet : bool
        Hide messages.

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    dest = Path(dest).expanduser().absolute() if dest is not None else default_dest()
    if is_complete(dest):
        _say(f"{dest} already holds a complete data set ({_describe(dest)}); nothing to do.", quiet)
        return dest
    _check_dest_free(dest)
    try:
        from .synthetic import make_synthetic_corpus  # needs numpy, scipy and soundfile
    except ImportError as exc:
        raise DownloadError(
            f"The synthetic corpus needs numpy, scipy and soundfile ({exc}). Install them with "
            "`pip install -r requirements.txt`."
        ) from exc

    options = {"n_speakers": n_speakers, "files_per_speaker": files_per_speaker, "seed": seed}
    try:
        path = make_synthetic_corpus(dest, **{k: v for k, v in options.items() if v is not None})
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    _say(f"Synthetic corpus ready in {path} ({_describe(Path(path))}).", quiet)
    return Path(path)


# --------------------------------------------------------------------------------------------------
# command line


def _sha256_arg(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text.strip()):
        raise argparse.ArgumentTypeError(f"not a SHA-256 hex digest (64 hex digits): {text!r}")
    return text.strip().lower()


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``data_download.py``.

    Returns
    -------
    argparse.ArgumentParser
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="data_download.py",
        description=(
            "Download the course data set (speaker folders of .flac files) and unpack it to "
            "DEST/<speaker>/*.flac. Safe to re-run: an interrupted download resumes, and a "
            "complete data set is left alone."
        ),
        epilog="Exit codes: 0 success, 1 download/check/unpack failure, 2 usage error, "
        "130 interrupted.",
    )
    parser.add_argument(
        "--dest",
        type=Path,
        metavar="DIR",
        help="data set folder (default: train-dataset/ at the repository root)",
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="where to download from; auto = Google Drive, then Cloud Storage (default); "
        "openslr = LibriSpeech train-clean-100, rebuilt into the same layout",
    )
    what.add_argument("--url", help="download the tarball from this HTTP(S) mirror instead")
    what.add_argument(
        "--archive",
        type=Path,
        metavar="FILE",
        help="unpack this already downloaded .tar.gz (no download)",
    )
    what.add_argument(
        "--synthetic",
        action="store_true",
        help="generate the small synthetic corpus instead (no download)",
    )
    parser.add_argument(
        "--sha256", type=_sha256_arg, metavar="HEX", help="expected SHA-256 of the tarball"
    )
    parser.add_argument(
        "--keep-archive", action="store_true", help="keep the downloaded tarball after unpacking"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    synthetic = parser.add_argument_group("synthetic corpus (with --synthetic)")
    synthetic.add_argument("--speakers", type=int, metavar="N", help="number of speakers")
    synthetic.add_argument("--files", type=int, metavar="N", help="files per speaker")
    synthetic.add_argument("--seed", type=int, metavar="S", help="random seed")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``data_download.py``; errors are printed to stderr as one paragraph, no traceback.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 download/check/unpack failure, 2 usage error, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        synthetic_opts = (args.speakers, args.files, args.seed)
        if not args.synthetic and any(v is not None for v in synthetic_opts):
            parser.error("--speakers, --files and --seed only go with --synthetic")
        if args.synthetic and args.sha256:
            parser.error("--sha256 does not go with --synthetic")
    except SystemExit as exc:  # argparse: --help or a usage error
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        if args.synthetic:
            make_synthetic(
                args.dest,
                n_speakers=args.speakers,
                files_per_speaker=args.files,
                seed=args.seed,
                quiet=args.quiet,
            )
        else:
            fetch(
                args.dest,
                source=args.source,
                url=args.url,
                archive=args.archive,
                sha256=args.sha256,
                keep_archive=args.keep_archive,
                quiet=args.quiet,
            )
    except UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DownloadError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(
            f"\n{parser.prog}: interrupted. Run the same command again: the download resumes "
            "where it stopped.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
