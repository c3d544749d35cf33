"""One file, resumably, over HTTP (``Range``) or from Google Drive (``gdown``); every failure a
:class:`DownloadError` naming what happened and what to do (:data:`NEXT_STEPS`)."""

import http.client
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

DOWNLOAD_RETRIES = 3  # times an interrupted HTTP download is resumed in one call
RETRY_WAIT_SECONDS = 2.0  # first wait before resuming (doubled at each retry)
TIMEOUT_SECONDS = 60.0
CHUNK_SIZE = 1 << 20
EXTRACT_SPACE_FACTOR = 2.2  # free space to unpack, times the archive size (FLAC barely gzips)

NEXT_STEPS = {  # what to do, by kind of failure
    "dns": "Check the URL, and that this machine is online",
    "offline": "Check that this machine is online",
    "refused": "The server is down or the port is wrong: check the URL, or use another source",
    "timeout": "The server is down or overloaded, or the network slow: retry later, or another source",
    "http": "Check the URL (a mirror must be a direct public link to the .tar.gz), or another source",
    "busy": "Try again later (the server's fault, not yours), or use another source",
    "quota": "Retry in a few hours, or another source: --source gcs, --url URL, or --archive FILE",
    "corrupt": "Delete it and download it again, or pass the right file with --archive",
    "checksum": "It is corrupt or not the file meant: download it again, or check --sha256",
    "interrupted": "Check your connection and run the same command again to resume",
    "disk": "Free some space, or pass --dest to put the data on a disk with more room",
    "local": "Check the folder's permissions and free space, then run the command again",
}
_NETWORK = {  # kind: (text in the exception chain, what happened); the first match wins
    "dns": ("name or service not known|nodename nor servname|failed to resolve", "the host name"
            " {host} could not be resolved (DNS: {text})"),
    "offline": ("temporary failure in name resolution|network is unreachable",
                "no network: {host} could not be reached ({text})"),
    "refused": ("connection refused", "{host} refused the connection on port {port}"),
    "timeout": ("timed out", "{host} did not answer (timed out{after})"),
}  # fmt: skip


class DownloadError(RuntimeError):
    """``summary``, then ``next_step`` (default: by ``kind``, a :data:`NEXT_STEPS` key or usage)."""

    def __init__(self, summary: str, next_step: str | None = None, kind: str = "failed") -> None:
        next_step = NEXT_STEPS.get(kind, "") if next_step is None else next_step
        sep = "\n" if "\n" in summary else ". "  # after a list of failures
        super().__init__(f"{summary}{sep}{next_step}" if next_step else summary)
        self.summary, self.next_step, self.kind = summary, next_step, kind


def say(message: str, quiet: bool = False) -> None:
    """Print ``message`` at once, unless ``quiet``."""
    if not quiet:
        print(message, flush=True)


def _human(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB"):
        if abs(n_bytes) < 1000:
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return f"{n_bytes:.1f} GB"


def check_free_space(folder: str | os.PathLike, needed_bytes: int, purpose: str) -> None:
    """Raise :class:`DownloadError` (kind ``disk``) if ``folder``'s disk has less free space."""
    if (free := shutil.disk_usage(folder).free) < needed_bytes:
        what = f"Not enough free disk space in {folder}: {purpose} needs {_human(needed_bytes)}"
        raise DownloadError(f"{what} but only {_human(free)} is free", kind="disk")


def _network_error(url: str, exc: BaseException | None, timeout: float = 0) -> DownloadError | None:
    """Name a failure below HTTP (DNS, no network, refused, timeout) from an exception chain."""
    text, parts = "", urllib.parse.urlsplit(url)
    while exc is not None and len(text) < 4000:
        reason = getattr(exc, "reason", "")
        text += f" {exc} {reason}" + (" timed out" if isinstance(exc, TimeoutError) else "")
        exc = exc.__cause__ or exc.__context__ or (reason if isinstance(reason, OSError) else None)
    for kind, (pattern, what) in _NETWORK.items():
        if found := re.search(pattern, text.lower()):
            port = parts.port or (443 if parts.scheme == "https" else 80)
            after = f" after {timeout:g} s" if timeout else ""
            host, text = parts.hostname, found[0].capitalize()
            what = what.format(host=host, port=port, text=text, after=after)
            return DownloadError(what, kind=kind)
    return None


def _http_attempt(url: str, part: Path, space_factor: float, quiet: bool) -> None:
    """Fetch ``url`` into ``part``, resuming from its size; kind ``interrupted`` if it stops."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "audio-course/2.0", "Accept-Encoding": "identity"}
    request = urllib.request.Request(url, headers=headers)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as exc:
        response = exc  # a response too: its status is read below
    except (OSError, http.client.HTTPException) as exc:  # URLError: DNS, refused, timeout...
        what = f"could not reach {url} ({getattr(exc, 'reason', exc)})"
        raise _network_error(url, exc, TIMEOUT_SECONDS) or DownloadError(what, None, "dns") from exc
    with response:
        status, header = response.status, (response.headers["Content-Range"] or "").strip()
        found = re.fullmatch(r"bytes (?:(\d+)-\d+|\*)/(?:(\d+)|\*)", header)
        start, total = (int(n) if n else None for n in (found.groups() if found else (None, None)))
        if status == 416 and offset and total == offset:
            return  # the partial file is already whole
        if status >= 400 and not (status == 416 and offset):
            busy = status in (408, 429) or status >= 500
            why = {403: "the file is not public or the link expired", 404: "there is no file there"}
            why = "the server is busy or failing" if busy else why.get(status, "it was refused")
            what = f"{url} answered HTTP {status} ({response.reason}): {why}"
            raise DownloadError(what, kind="busy" if busy else "http")
        if status in (206, 416) and start != offset:
            part.unlink()
            raise DownloadError("the partial file is not the server's: restart", kind="interrupted")
        if status != 206:
            if offset:
                say("The server cannot resume a download: starting again from zero.", quiet)
            length, offset = response.headers.get("Content-Length", ""), 0
            total = int(length) if length.isdigit() else None
        if total is not None:
            needed = total - offset + int(space_factor * total)
            check_free_space(part.parent, needed, "downloading and unpacking the data")
        bar = {"total": total, "initial": offset, "desc": part.stem, "disable": quiet}
        try:
            with open(part, "ab" if offset else "wb") as fh, tqdm.wrapattr(fh, "write", **bar) as o:
                shutil.copyfileobj(response, o, CHUNK_SIZE)
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, OSError) and exc.filename == str(part):  # writing, not reading
                raise DownloadError(f"Could not write {part} ({exc})", kind="local") from exc
            raise DownloadError(f"the connection broke ({exc!r})", kind="interrupted") from exc
    if total is not None and (size := part.stat().st_size) < total:  # (longer: fails the checks)
        what = f"the connection closed after {_human(size)} of {_human(total)}"
        raise DownloadError(what, kind="interrupted")


def download_http(
    url: str, dest_file: str | os.PathLike, retries: int | None = None, quiet: bool = False
) -> Path:
    """Download ``url`` to ``dest_file`` through ``<dest_file>.part``, resumed with HTTP ``Range``
    (``retries`` times, default :data:`DOWNLOAD_RETRIES`, and on the next call)."""
    part = Path(dest_file).with_name(Path(dest_file).name + ".part")
    retries = DOWNLOAD_RETRIES if retries is None else retries
    for attempt in range(retries + 1):
        try:
            _http_attempt(url, part, EXTRACT_SPACE_FACTOR, quiet)
            break
        except DownloadError as exc:
            last = attempt == retries
            if exc.kind not in ("interrupted", "busy") or (last and exc.kind == "busy"):
                raise
            if last:
                kept = part.stat().st_size if part.is_file() else 0
                where = f"The {_human(kept)} received so far are kept in {part}. " if kept else ""
                step = where + NEXT_STEPS["interrupted"]
                raise DownloadError(f"{url} stopped: {exc.summary}", step, exc.kind) from exc
            wait = RETRY_WAIT_SECONDS * 2**attempt
            say(f"{exc.summary}; resuming in {wait:.0f} s ({attempt + 1} of {retries}).", quiet)
            time.sleep(wait)
    return part.replace(dest_file)


def download_drive(file_id: str, dest_file: str | os.PathLike, quiet: bool = False) -> Path:
    """Download a Google Drive file with ``gdown`` (resumable); quota, network or gdown errors."""
    output = Path(f"{dest_file}.drive.part")  # gdown's temporary files start so
    try:
        import gdown

        result = gdown.download(id=file_id, output=str(output), quiet=quiet, resume=True)
    except Exception as exc:  # gdown raises many kinds: quota, network, HTTP...
        text = " ".join(str(exc).split())
        if any(s in text.lower() for s in ("too many users", "quota", "many accesses")):
            what = "Google Drive refuses: the file's download quota is exceeded ('Too many users"
            what += " have viewed or downloaded this file recently')"
            raise DownloadError(what, kind="quota") from exc
        net = _network_error(f"https://drive.google.com/uc?id={file_id}", exc)
        what = f"Google Drive file {file_id}: gdown failed ({text[:300]})"
        raise net or DownloadError(what, "Retry later, or use another source") from exc
    if result is None or not output.is_file():
        what = f"gdown did not download Drive file {file_id}"
        raise DownloadError(what, "Retry, or another source")
    return output.replace(dest_file)
