"""Tests of ``helpers.download`` / ``data_download.py``, offline, against a loopback HTTP server."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import types
from collections import namedtuple
from pathlib import Path

import pytest
import soundfile as sf
from archives import (
    course_members,
    librispeech_members,
    make_tar_gz,
    sha256_of,
    small_tier_archive,
)
from loopback import closed_port_url, loopback_server, silent_server

from helpers import download, fetch, paths

REPO_ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("data_download", REPO_ROOT / "data_download.py")
data_download = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(data_download)
main = data_download.main
REAL_DOWNLOAD_DRIVE = download.download_drive  # before the autouse fixture replaces it
MARKER = paths.COMPLETE_MARKER


@pytest.fixture
def server():
    with loopback_server() as running:
        yield running


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path_factory):
    """No real network, no waiting between retries, no mirror, a fresh runtime's temp folder."""

    def no_drive(*args, **kwargs):
        raise download.DownloadError("Google Drive is not reachable in tests")

    monkeypatch.setattr(download, "download_drive", no_drive)
    for name in ("GCS_URL", "OPENSLR_URL", "DEV_CLEAN_URL", "TEST_CLEAN_URL"):
        monkeypatch.setattr(download, name, "http://127.0.0.1:1/no-network-in-tests")
    monkeypatch.setattr(fetch, "RETRY_WAIT_SECONDS", 0.0)
    monkeypatch.delenv(download.MIRROR_ENV, raising=False)
    monkeypatch.delenv(download.SHA256_ENV, raising=False)
    runtime_tmp = tmp_path_factory.mktemp("runtime-tmp")  # where failed sources are remembered
    monkeypatch.setattr(tempfile, "tempdir", str(runtime_tmp))


# --------------------------------------------------------------------------------------------------
# archives (builders in tests/archives.py)


def tree(dest: Path) -> dict[str, bytes]:
    return {
        p.relative_to(dest).as_posix(): p.read_bytes()
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name != MARKER
    }


def flat(members: dict[str, bytes], depth: int = 2) -> dict[str, bytes]:
    out = {}
    for name, data in members.items():
        parts = name.split("/")
        if parts[-1].endswith(".flac"):
            out[f"{parts[-depth]}/{parts[-1]}"] = data
    return out


def assert_nothing_left(data_dir: Path, dest: Path) -> None:
    assert not dest.exists()
    assert not list(data_dir.glob(f".{dest.name}.partial-*"))
    assert not list(data_dir.glob(f"{dest.name}.partial-*"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


# --------------------------------------------------------------------------------------------------
# the happy paths


def test_url_download_layout_marker_and_second_run_does_nothing(server, data_dir, capsys):
    members = course_members(n_speakers=3, n_files=2)
    body = make_tar_gz(data_dir / "src.tgz", members).read_bytes()
    url = server.serve("/mirror/train-dataset.tar.gz", body)
    dest = data_dir / "train-dataset"
    stale = data_dir / ".train-dataset.partial-old"  # left by a killed run
    (stale / "100").mkdir(parents=True)

    assert main(["--url", url, "--dest", str(dest)]) == 0

    assert tree(dest) == flat(members)
    assert sorted(p.name for p in dest.iterdir() if p.is_dir()) == ["100", "137", "174"]
    assert not (dest / "train-dataset").exists()
    marker = (dest / MARKER).read_text()
    assert "source=url" in marker and "speakers=3" in marker and "files=6" in marker
    assert download.has_dataset(dest)
    assert not (data_dir / download.ARCHIVE_NAME).exists()  # deleted once unpacked
    assert not list(data_dir.glob("*.part"))
    assert not stale.exists()
    assert_nothing_left(data_dir, data_dir / "other")
    assert len(server.state.requests) == 1

    capsys.readouterr()
    server.state.requests.clear()
    assert main(["--url", url, "--dest", str(dest)]) == 0
    assert server.state.requests == []
    assert "nothing to do" in capsys.readouterr().out


def test_archive_option_keeps_the_archive_and_handles_no_top_folder(data_dir):
    members = course_members(n_speakers=2, n_files=3, top="")
    archive = make_tar_gz(data_dir / "mine.tar.gz", members)
    dest = data_dir / "train-dataset"
    assert main(["--archive", str(archive), "--dest", str(dest), "--quiet"]) == 0
    assert tree(dest) == flat(members)
    assert "source=archive" in (dest / MARKER).read_text()
    assert archive.exists()


def test_keep_archive_and_correct_sha256(server, data_dir):
    body = make_tar_gz(data_dir / "src.tgz", course_members()).read_bytes()
    url = server.serve("/a.tar.gz", body)
    dest = data_dir / "train-dataset"
    digest = hashlib.sha256(body).hexdigest().upper()  # case does not matter
    args = ["--url", url, "--dest", str(dest), "--sha256", digest, "--keep-archive", "--quiet"]
    assert main(args) == 0
    assert (data_dir / download.ARCHIVE_NAME).read_bytes() == body
    assert download.has_dataset(dest)


def test_reuses_an_earlier_download(server, data_dir):
    members = course_members()
    make_tar_gz(data_dir / download.ARCHIVE_NAME, members)
    url = server.serve("/a.tar.gz", b"never fetched")
    dest = data_dir / "train-dataset"
    assert main(["--url", url, "--dest", str(dest), "--quiet"]) == 0
    assert server.state.requests == []
    assert tree(dest) == flat(members)


def test_openslr_librispeech_rebuilt_flat_without_transcripts(server, data_dir, monkeypatch):
    members = librispeech_members()
    body = make_tar_gz(data_dir / "ls.tgz", members).read_bytes()
    monkeypatch.setattr(download, "OPENSLR_URL", server.serve("/12/train-clean-100.tar.gz", body))
    monkeypatch.setattr(download, "OPENSLR_SHA256", hashlib.sha256(body).hexdigest())
    dest = data_dir / "train-dataset"

    assert main(["--source", "openslr", "--dest", str(dest), "--quiet"]) == 0

    files = tree(dest)
    assert files == flat(members, depth=3)
    assert len(files) == 2 * 2 * 2
    assert all(re.fullmatch(r"(\d+)/\1-\d+-\d{4}\.flac", name) for name in files)
    assert not list(dest.rglob("*.txt")) and not list(dest.rglob("*.TXT"))
    assert "source=openslr" in (dest / MARKER).read_text()
    assert not (data_dir / download.OPENSLR_ARCHIVE_NAME).exists()


def test_librispeech_layout_detected_from_an_archive(data_dir):
    members = librispeech_members(n_speakers=1)
    archive = make_tar_gz(data_dir / "ls.tar.gz", members, dirs=False)
    dest = data_dir / "ls"
    assert main(["--archive", str(archive), "--dest", str(dest), "--quiet"]) == 0
    assert tree(dest) == flat(members, depth=3)


def test_openslr_checksum_is_enforced(server, data_dir, monkeypatch):
    body = make_tar_gz(data_dir / "ls.tgz", librispeech_members()).read_bytes()
    monkeypatch.setattr(download, "OPENSLR_URL", server.serve("/ls.tar.gz", body))
    dest = data_dir / "train-dataset"  # OPENSLR_SHA256 is the real one: mismatch
    assert main(["--source", "openslr", "--dest", str(dest), "--quiet"]) == 1
    assert_nothing_left(data_dir, dest)
    assert not (data_dir / download.OPENSLR_ARCHIVE_NAME).exists()


# --------------------------------------------------------------------------------------------------
# the auto source order


def test_auto_falls_back_from_drive_to_gcs(server, data_dir, monkeypatch, capsys):
    members = course_members()
    gcs = server.serve(
        "/data_ecoleit/x.tar.gz", make_tar_gz(data_dir / "s.tgz", members).read_bytes()
    )
    monkeypatch.setattr(download, "GCS_URL", gcs)
    calls = []

    def drive_fails(file_id, dest_file, quiet=False):
        calls.append(file_id)
        raise download.DownloadError("Drive quota exceeded")

    monkeypatch.setattr(download, "download_drive", drive_fails)
    dest = data_dir / "train-dataset"
    assert main(["--dest", str(dest), "--quiet"]) == 0
    assert calls == [download.DRIVE_FILE_ID]
    assert "Google Drive failed" in capsys.readouterr().err
    assert "source=gcs" in (dest / MARKER).read_text()
    assert tree(dest) == flat(members)


def test_auto_drive_html_page_falls_back_to_gcs(server, data_dir, monkeypatch):
    members = course_members()
    gcs = server.serve("/gcs.tar.gz", make_tar_gz(data_dir / "s.tgz", members).read_bytes())
    monkeypatch.setattr(download, "GCS_URL", gcs)

    def drive_html(file_id, dest_file, quiet=False):
        Path(dest_file).write_text("<!DOCTYPE html><html><title>Google Drive</title></html>")
        return Path(dest_file)

    monkeypatch.setattr(download, "download_drive", drive_html)
    dest = data_dir / "train-dataset"
    assert main(["--dest", str(dest), "--quiet"]) == 0
    assert tree(dest) == flat(members)


def test_drive_success_is_used_first(data_dir, monkeypatch):
    members = course_members(n_speakers=2)
    source = make_tar_gz(data_dir / "drive-copy.tgz", members)

    def drive_ok(file_id, dest_file, quiet=False):
        shutil.copyfile(source, dest_file)
        return Path(dest_file)

    monkeypatch.setattr(download, "download_drive", drive_ok)
    dest = data_dir / "train-dataset"
    assert main(["--dest", str(dest), "--quiet"]) == 0
    assert "source=drive" in (dest / MARKER).read_text()


def test_every_source_failing_is_one_clear_error(server, data_dir, monkeypatch, capsys):
    monkeypatch.setattr(download, "GCS_URL", server.base + "/gone.tar.gz")  # 404
    dest = data_dir / "train-dataset"
    assert main(["--dest", str(dest), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Every source failed" in err and "Google Drive" in err and "HTTP 404" in err
    assert "Traceback" not in err
    assert_nothing_left(data_dir, dest)


# --------------------------------------------------------------------------------------------------
# failures leave nothing behind


@pytest.mark.parametrize("keep", [0.5, -4], ids=["half", "no-gzip-trailer"])
def test_truncated_archive(server, data_dir, capsys, keep):
    body = make_tar_gz(data_dir / "s.tgz", course_members(n_files=3)).read_bytes()
    cut = int(len(body) * keep) if keep > 0 else len(body) + keep
    url = server.serve("/t.tar.gz", body[:cut])  # served whole: the file itself is truncated
    dest = data_dir / "train-dataset"
    assert main(["--url", url, "--dest", str(dest), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "truncated or corrupt" in err and "Traceback" not in err
    assert_nothing_left(data_dir, dest)
    assert not (data_dir / download.ARCHIVE_NAME).exists()


def test_html_page_instead_of_archive(server, data_dir, capsys):
    page = b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head></html>"
    url = server.serve("/uc", page, content_type="text/html; charset=utf-8")
    dest = data_dir / "train-dataset"
    assert main(["--url", url, "--dest", str(dest), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "HTML" in err and "quota" in err and "--archive" in err and "--source gcs" in err
    assert_nothing_left(data_dir, dest)
    assert not (data_dir / download.ARCHIVE_NAME).exists()


def test_not_gzip(data_dir, capsys):
    archive = data_dir / "plain.tar"
    with tarfile.open(archive, "w") as tar:
        tar.addfile(tarfile.TarInfo("a.flac"), io.BytesIO(b""))
    assert main(["--archive", str(archive), "--dest", str(data_dir / "d")]) == 1
    assert "not a gzip file" in capsys.readouterr().err
    assert archive.exists()  # the user's own file is never deleted


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


def _hardlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.LNKTYPE, target
    return info


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 5
    return info


@pytest.mark.parametrize(
    "make_member",
    [
        lambda tmp: _file("../evil.flac"),
        lambda tmp: _file("train-dataset/100/../../../evil.flac"),
        lambda tmp: _file(str(tmp / "abs_evil.flac")),
        lambda tmp: _symlink("train-dataset/100/evil.flac", "../../../../outside_evil.flac"),
        lambda tmp: _symlink("train-dataset/100/evil_abs.flac", "/etc/passwd"),
        lambda tmp: _hardlink("train-dataset/100/evil_hard.flac", "../../etc/passwd"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-absolute", "hardlink-out"],
)
def test_unsafe_members_are_refused(tmp_path, data_dir, capsys, make_member):
    archive = make_tar_gz(tmp_path / "bad.tar.gz", course_members(), extra=[make_member(tmp_path)])
    before = {p for p in tmp_path.rglob("*")}
    dest = data_dir / "train-dataset"
    assert main(["--archive", str(archive), "--dest", str(dest), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "unsafe member" in err and "Traceback" not in err
    assert_nothing_left(data_dir, dest)
    assert {p for p in tmp_path.rglob("*")} == before
    assert not list(tmp_path.parent.glob("*evil*"))


@pytest.mark.parametrize("unsafe", [False, True], ids=["good", "unsafe"])
def test_without_tarfile_data_filter(tmp_path, data_dir, monkeypatch, unsafe):
    """Python < 3.11.4 has no tarfile filters: the module's own checks must hold alone."""
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    members = course_members()
    extra = (
        [_symlink("train-dataset/100/evil.flac", "../../../outside_evil.flac")] if unsafe else []
    )
    extra += [_file("../evil.flac")] if unsafe else []
    archive = make_tar_gz(tmp_path / "a.tar.gz", members, extra=extra)
    dest = data_dir / "train-dataset"
    code = main(["--archive", str(archive), "--dest", str(dest), "--quiet"])
    if unsafe:
        assert code == 1
        assert_nothing_left(data_dir, dest)
        assert not list(tmp_path.rglob("*evil*"))
    else:
        assert code == 0
        assert tree(dest) == flat(members)


def test_download_drive_uses_gdown_with_resume(data_dir, monkeypatch):
    calls = []

    def fake_download(id, output, quiet, resume):
        calls.append((id, Path(output).name, resume))
        Path(output).write_bytes(b"archive bytes")
        return output

    monkeypatch.setitem(sys.modules, "gdown", types.SimpleNamespace(download=fake_download))
    target = data_dir / download.ARCHIVE_NAME
    assert REAL_DOWNLOAD_DRIVE("abc", target, quiet=True) == target
    assert calls == [("abc", f"{download.ARCHIVE_NAME}.drive.part", True)]
    assert target.read_bytes() == b"archive bytes"
    assert not list(data_dir.glob("*.part"))


def test_download_drive_failure_explains_the_quota(data_dir, monkeypatch):
    def fake_download(**kwargs):
        raise RuntimeError("Too many users have viewed or downloaded this file recently.")

    monkeypatch.setitem(sys.modules, "gdown", types.SimpleNamespace(download=fake_download))
    with pytest.raises(download.DownloadError, match="Too many users") as info:
        REAL_DOWNLOAD_DRIVE("abc", data_dir / download.ARCHIVE_NAME, quiet=True)
    assert "--source gcs" in str(info.value) and "--archive" in str(info.value)
    assert not (data_dir / download.ARCHIVE_NAME).exists()


def test_free_space_check_before_unpacking(data_dir, monkeypatch, capsys):
    archive = make_tar_gz(data_dir / "mine.tar.gz", course_members())
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    dest = data_dir / "train-dataset"
    assert main(["--archive", str(archive), "--dest", str(dest), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"Not enough free disk space in {data_dir}" in err
    assert "1.0 KB is free" in err and "--dest" in err
    assert_nothing_left(data_dir, dest)


def test_free_space_check_before_downloading(server, data_dir, monkeypatch, capsys):
    url = server.serve("/a.tar.gz", make_tar_gz(data_dir / "s.tgz", course_members()).read_bytes())
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    dest = data_dir / "train-dataset"
    assert main(["--url", url, "--dest", str(dest), "--quiet"]) == 1
    assert "Not enough free disk space" in capsys.readouterr().err
    assert not list(data_dir.glob("*.part"))
    assert_nothing_left(data_dir, dest)


def test_sha256_mismatch(server, data_dir, capsys):
    url = server.serve("/a.tar.gz", make_tar_gz(data_dir / "s.tgz", course_members()).read_bytes())
    dest = data_dir / "train-dataset"
    args = ["--url", url, "--dest", str(dest), "--sha256", "0" * 64, "--quiet"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "SHA-256" in err and "0" * 64 in err
    assert_nothing_left(data_dir, dest)
    assert not (data_dir / download.ARCHIVE_NAME).exists()


def test_existing_incomplete_folder_is_left_alone(data_dir, capsys):
    archive = make_tar_gz(data_dir / "mine.tar.gz", course_members())
    dest = data_dir / "train-dataset"
    (dest / "100").mkdir(parents=True)
    (dest / "100" / "mine.flac").write_bytes(b"keep me")
    assert main(["--archive", str(archive), "--dest", str(dest), "--quiet"]) == 1
    assert "not a complete data set" in capsys.readouterr().err
    assert (dest / "100" / "mine.flac").read_bytes() == b"keep me"


# --------------------------------------------------------------------------------------------------
# resuming


def test_interrupted_download_resumes_with_range(server, data_dir):
    body = make_tar_gz(data_dir / "s.tgz", course_members(n_files=4)).read_bytes()
    url = server.serve("/big.tar.gz", body)
    target = data_dir / "big.tar.gz"
    part = data_dir / "big.tar.gz.part"
    server.state.cut_at, server.state.cuts = len(body) // 3, 1

    with pytest.raises(download.DownloadError, match="run the same command again to resume"):
        download.download_http(url, target, retries=0, quiet=True)
    assert not target.exists()
    assert part.stat().st_size == len(body) // 3

    assert download.download_http(url, target, retries=0, quiet=True) == target
    assert server.ranges() == [None, f"bytes={len(body) // 3}-"]
    assert target.read_bytes() == body
    assert not part.exists()


def test_cli_resumes_a_broken_connection_by_itself(server, data_dir):
    members = course_members(n_files=4)
    body = make_tar_gz(data_dir / "s.tgz", members).read_bytes()
    url = server.serve("/big.tar.gz", body)
    server.state.cut_at, server.state.cuts = 5000, 2
    dest = data_dir / "train-dataset"
    args = ["--url", url, "--dest", str(dest), "--keep-archive", "--quiet"]
    assert main(args) == 0
    assert server.ranges() == [None, "bytes=5000-", "bytes=10000-"]
    assert (data_dir / download.ARCHIVE_NAME).read_bytes() == body
    assert tree(dest) == flat(members)


def test_cli_gives_up_after_retries_and_keeps_the_part(server, data_dir, capsys):
    body = make_tar_gz(data_dir / "s.tgz", course_members()).read_bytes()
    url = server.serve("/big.tar.gz", body)
    server.state.cut_at, server.state.cuts = 1000, 100
    dest = data_dir / "train-dataset"
    assert main(["--url", url, "--dest", str(dest), "--quiet"]) == 1
    assert "resume" in capsys.readouterr().err
    assert len(server.state.requests) == fetch.DOWNLOAD_RETRIES + 1
    part = data_dir / f"{download.ARCHIVE_NAME}.part"
    assert part.stat().st_size == 1000 * (fetch.DOWNLOAD_RETRIES + 1)
    assert_nothing_left(data_dir, dest)

    kept = part.stat().st_size
    server.state.cuts = 0  # the network is back: the next run finishes the same .part
    assert main(["--url", url, "--dest", str(dest), "--quiet"]) == 0
    assert server.ranges()[-1] == f"bytes={kept}-"
    assert download.has_dataset(dest)


def test_server_without_range_support_restarts_cleanly(server, data_dir):
    body = make_tar_gz(data_dir / "s.tgz", course_members()).read_bytes()
    url = server.serve("/a.tar.gz", body)
    server.state.ignore_range = True
    target = data_dir / "a.tar.gz"
    (data_dir / "a.tar.gz.part").write_bytes(b"stale bytes from another file")
    download.download_http(url, target, quiet=True)
    assert target.read_bytes() == body


def test_complete_part_file_is_accepted_on_416(server, data_dir):
    body = b"\x1f\x8b whatever"
    url = server.serve("/a.tar.gz", body)
    target = data_dir / "a.tar.gz"
    (data_dir / "a.tar.gz.part").write_bytes(body)
    download.download_http(url, target, quiet=True)
    assert target.read_bytes() == body
    assert server.ranges() == [f"bytes={len(body)}-"]


def test_http_error_names_the_url(server, data_dir):
    with pytest.raises(download.DownloadError, match=r"/missing\.tar\.gz answered HTTP 404"):
        download.download_http(server.base + "/missing.tar.gz", data_dir / "m.tar.gz", quiet=True)


# --------------------------------------------------------------------------------------------------
# command line


@pytest.mark.parametrize(
    "argv",
    [
        ["--speakers", "3"],
        ["--url", "ftp://example.org/x.tar.gz"],
        ["--url", "http://127.0.0.1:1/x", "--archive", "x.tar.gz"],
        ["--source", "nowhere"],
        ["--sha256", "not-hex"],
        ["--synthetic", "--sha256", "0" * 64],
        ["--archive", "no/such/file.tar.gz"],
    ],
)
def test_usage_errors_exit_2(argv, data_dir, capsys):
    assert main([*argv, "--dest", str(data_dir / "d"), "--quiet"]) == 2
    assert "error" in capsys.readouterr().err
    assert not (data_dir / "d").exists()


def test_synthetic_passthrough(data_dir, monkeypatch):
    calls = []

    def make_synthetic_corpus(dest, n_speakers=8, files_per_speaker=8, seed=0, **kwargs):
        calls.append((Path(dest), n_speakers, files_per_speaker, seed))
        (Path(dest) / "11").mkdir(parents=True)
        (Path(dest) / "11" / "11-1-0000.flac").write_bytes(b"fLaC")
        (Path(dest) / MARKER).write_text("synthetic\n")
        return Path(dest)

    fake = types.ModuleType("helpers.synthetic")
    fake.make_synthetic_corpus = make_synthetic_corpus
    monkeypatch.setitem(sys.modules, "helpers.synthetic", fake)
    dest = data_dir / "synthetic"
    argv = ["--synthetic", "--dest", str(dest), "--speakers", "3", "--files", "2", "--seed", "5"]
    assert main([*argv, "--quiet"]) == 0
    assert calls == [(dest, 3, 2, 5)]
    assert main([*argv, "--quiet"]) == 0  # complete: not called again
    assert len(calls) == 1


def test_script_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "data_download.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--archive" in result.stdout and "--synthetic" in result.stdout


def test_tier_folders():
    assert download.tier_folder("full") == REPO_ROOT / "train-dataset"  # next to notebooks/
    assert download.tier_folder("small") == paths.DATA_DIR / "small" == paths.SMALL_DATA
    assert download.tier_folder("synthetic") == paths.SYNTHETIC_DATA
    assert set(download.TIERS) == {"small", "full", "synthetic"}
    with pytest.raises(download.DownloadError, match="tier must be one of") as info:
        download.tier_folder("medium")
    assert info.value.kind == "usage"


def test_has_dataset(tmp_path):
    assert not download.has_dataset(tmp_path / "missing")
    (tmp_path / MARKER).write_text("x")
    assert not download.has_dataset(tmp_path)  # no speaker folder
    (tmp_path / "100").mkdir()
    assert download.has_dataset(tmp_path)


# --------------------------------------------------------------------------------------------------
# tiers: small (LibriSpeech dev-clean [+ test-clean]) in its real layout, with real FLAC


@pytest.fixture(scope="module")
def small_archives(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("small-archives")
    return {
        "dev-clean": small_tier_archive(folder / "dev-clean.tar.gz", "dev-clean", 4, 3, seed=0),
        "test-clean": small_tier_archive(folder / "test-clean.tar.gz", "test-clean", 3, 3, seed=1),
    }


@pytest.fixture
def openslr(server, small_archives, monkeypatch):
    """OpenSLR's dev-clean and test-clean served on loopback, with their checksums."""
    for subset, path in small_archives.items():
        name = subset.upper().replace("-", "_")
        monkeypatch.setattr(
            download, f"{name}_URL", server.serve(f"/12/{path.name}", path.read_bytes())
        )
        monkeypatch.setattr(download, f"{name}_SHA256", sha256_of(path))
    return server


def test_archive_builder_uses_librispeech_real_layout(small_archives):
    with tarfile.open(small_archives["dev-clean"]) as tar:
        names = tar.getnames()
    flacs = [n for n in names if n.endswith(".flac")]
    assert len(flacs) == 12 and "LibriSpeech/SPEAKERS.TXT" in names
    for name in flacs:
        speaker, chapter, file_name = re.fullmatch(
            r"LibriSpeech/dev-clean/(\d+)/(\d+)/(.+)", name
        ).groups()
        assert file_name.startswith(f"{speaker}-{chapter}-")
        assert f"LibriSpeech/dev-clean/{speaker}/{chapter}/{speaker}-{chapter}.trans.txt" in names


def test_small_tier_is_dev_clean_rebuilt_flat(openslr, data_dir):
    dest = download.fetch_tier("small", data_dir / "small", quiet=True)
    speakers = sorted(p.name for p in dest.iterdir() if p.is_dir())
    files = sorted(dest.rglob("*.flac"))
    assert len(speakers) == 4 and len(files) == 12
    assert all(f.parent.parent == dest and f.name.startswith(f.parent.name + "-") for f in files)
    assert sf.info(files[0]).samplerate == 16_000  # real audio, readable
    assert not list(dest.rglob("*.txt")) and not list(dest.rglob("*.TXT"))
    marker = (dest / MARKER).read_text()
    assert "tier=small" in marker and "source=openslr" in marker and "files=12" in marker
    assert [p for p, _ in openslr.state.requests] == ["/12/dev-clean.tar.gz"]
    assert not (data_dir / "dev-clean.tar.gz").exists()  # deleted once unpacked


def test_small_tier_with_test_clean_adds_other_speakers(openslr, data_dir):
    dest = data_dir / "small"
    assert main(["--tier", "small", "--with-test-clean", "--dest", str(dest), "--quiet"]) == 0
    speakers = {p.name for p in dest.iterdir() if p.is_dir()}
    assert len(speakers) == 7 and len(list(dest.rglob("*.flac"))) == 21
    assert sorted(p for p, _ in openslr.state.requests) == [
        "/12/dev-clean.tar.gz",
        "/12/test-clean.tar.gz",
    ]
    assert "archive=dev-clean.tar.gz+test-clean.tar.gz" in (dest / MARKER).read_text()


def test_small_tier_official_checksum_is_enforced(openslr, data_dir, monkeypatch, capsys):
    monkeypatch.setattr(
        download,
        "DEV_CLEAN_SHA256",
        "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
    )
    dest = data_dir / "small"
    assert main(["--tier", "small", "--dest", str(dest), "--quiet"]) == 1
    assert "SHA-256" in capsys.readouterr().err
    assert_nothing_left(data_dir, dest)
    assert not (data_dir / "dev-clean.tar.gz").exists()


def test_synthetic_tier_is_the_course_corpus(data_dir, monkeypatch):
    calls = []

    def make_synthetic_corpus(dest, **options):
        calls.append(options)
        (Path(dest) / "11").mkdir(parents=True)
        (Path(dest) / MARKER).write_text("synthetic\n")
        return Path(dest)

    fake = types.ModuleType("helpers.synthetic")
    fake.make_synthetic_corpus = make_synthetic_corpus
    monkeypatch.setitem(sys.modules, "helpers.synthetic", fake)
    assert download.fetch_tier("synthetic", data_dir / "syn", quiet=True) == data_dir / "syn"
    assert calls[0]["n_speakers"] == 24 and calls[0]["files_per_speaker"] == 12
    assert calls[0]["max_seconds"] == 8.0


# --------------------------------------------------------------------------------------------------
# archive_dir (e.g. a folder on Google Drive): an archive there means no network request


def test_archive_dir_keeps_the_download_and_a_new_runtime_fetches_nothing(
    openslr, data_dir, tmp_path_factory, monkeypatch
):
    drive = data_dir / "drive" / "audio-course"
    first = download.fetch_tier(
        "small", data_dir / "runtime1" / "small", archive_dir=drive, quiet=True
    )
    assert download.has_dataset(first) and len(openslr.state.requests) == 1
    assert sorted(p.name for p in drive.iterdir()) == ["dev-clean.tar.gz"]  # kept, no .part left

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("runtime2-tmp")))
    openslr.state.requests.clear()
    second = download.fetch_tier(
        "small", data_dir / "runtime2" / "small", archive_dir=drive, quiet=True
    )
    assert openslr.state.requests == []
    assert tree(second) == tree(first)
    assert (drive / "dev-clean.tar.gz").is_file()


def test_archive_dir_gets_the_archive_only_when_whole(openslr, data_dir):
    drive = data_dir / "drive"
    openslr.state.cut_at, openslr.state.cuts = 3000, 100
    with pytest.raises(download.DownloadError, match="resume"):
        download.fetch_tier("small", data_dir / "small", archive_dir=drive, quiet=True)
    assert sorted(p.name for p in drive.iterdir()) == ["dev-clean.tar.gz.part"]
    openslr.state.cuts = 0
    download.fetch_tier("small", data_dir / "small", archive_dir=drive, quiet=True)
    assert sorted(p.name for p in drive.iterdir()) == ["dev-clean.tar.gz"]


def test_archive_dir_with_a_broken_archive_downloads_it_again(openslr, data_dir, small_archives):
    drive = data_dir / "drive"
    drive.mkdir()
    whole = small_archives["dev-clean"].read_bytes()
    (drive / "dev-clean.tar.gz").write_bytes(whole[: len(whole) // 2])  # truncated copy
    download.fetch_tier("small", data_dir / "small", archive_dir=drive, quiet=True)
    assert len(openslr.state.requests) == 1
    assert (drive / "dev-clean.tar.gz").read_bytes() == whole


# --------------------------------------------------------------------------------------------------
# an instructor's mirror, tried first; a failing source falls through with one line


def fall_through_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "next." in line]


def test_mirror_from_env_is_tried_first(openslr, data_dir, small_archives, monkeypatch):
    mirror = openslr.serve("/class/dev-clean.tar.gz", small_archives["dev-clean"].read_bytes())
    monkeypatch.setenv(download.MIRROR_ENV, mirror)
    dest = download.fetch_tier("small", data_dir / "small", quiet=True)
    assert [p for p, _ in openslr.state.requests] == ["/class/dev-clean.tar.gz"]
    assert "source=url" in (dest / MARKER).read_text()


def test_mirror_copy_is_checked_against_the_official_checksum(
    openslr, data_dir, small_archives, capsys
):
    other = small_tier_archive(data_dir / "other.tar.gz", "dev-clean", 2, 1, seed=5)
    mirror = openslr.serve("/class/dev-clean.tar.gz", other.read_bytes())  # not the official file
    dest = download.fetch_tier("small", data_dir / "small", url=mirror, quiet=True)
    lines = fall_through_lines(capsys.readouterr().err)
    assert (
        len(lines) == 1 and "SHA-256" in lines[0] and "Trying OpenSLR (dev-clean) next" in lines[0]
    )
    assert [p for p, _ in openslr.state.requests] == [
        "/class/dev-clean.tar.gz",
        "/12/dev-clean.tar.gz",
    ]
    assert "source=openslr" in (dest / MARKER).read_text()


def test_mirror_under_another_name_uses_the_given_checksum(openslr, data_dir, monkeypatch):
    other = small_tier_archive(data_dir / "other.tar.gz", "dev-clean", 2, 1, seed=5)
    mirror = openslr.serve("/class/small.tar.gz", other.read_bytes())
    monkeypatch.setenv(download.SHA256_ENV, "0" * 64)
    download.fetch_tier("small", data_dir / "a", url=mirror, quiet=True)
    assert [p for p, _ in openslr.state.requests][
        -1
    ] == "/12/dev-clean.tar.gz"  # refused: fell through
    monkeypatch.setenv(download.SHA256_ENV, sha256_of(other))
    openslr.state.requests.clear()
    dest = download.fetch_tier("small", data_dir / "b", url=mirror, quiet=True, retry=True)
    assert [p for p, _ in openslr.state.requests] == ["/class/small.tar.gz"]
    assert len(list(dest.rglob("*.flac"))) == 2


def test_mirror_folder_holds_every_archive(openslr, data_dir, small_archives):
    for subset, path in small_archives.items():
        openslr.serve(f"/class/{subset}.tar.gz", path.read_bytes())
    download.fetch_tier(
        "small", data_dir / "small", url=openslr.base + "/class/", with_test_clean=True, quiet=True
    )
    assert sorted(p for p, _ in openslr.state.requests) == [
        "/class/dev-clean.tar.gz",
        "/class/test-clean.tar.gz",
    ]


@pytest.mark.parametrize("failure", ["quota-page", "dead", "404"])
def test_failing_mirror_falls_through_with_one_line(openslr, data_dir, capsys, failure):
    if failure == "quota-page":
        page = b"<!DOCTYPE html><html><title>Google Drive - Quota exceeded</title></html>"
        mirror = openslr.serve("/class/dev-clean.tar.gz", page, "text/html")
    else:
        mirror = closed_port_url() if failure == "dead" else openslr.base + "/class/gone.tar.gz"
    dest = download.fetch_tier("small", data_dir / "small", url=mirror, quiet=True)
    lines = fall_through_lines(capsys.readouterr().err)
    expected = {"quota-page": "HTML web page", "dead": "refused the connection", "404": "HTTP 404"}
    assert (
        len(lines) == 1
        and lines[0].startswith("The mirror failed")
        and expected[failure] in lines[0]
    )
    assert download.has_dataset(dest)


# --------------------------------------------------------------------------------------------------
# each failure kind: its own message, the next step, and commands that run from where the user is


def refuse_dns(monkeypatch, errno_: int, text: str) -> None:
    def getaddrinfo(host, *args, **kwargs):
        raise socket.gaierror(errno_, text)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_dns_failure_of_an_unresolvable_host(data_dir):
    with pytest.raises(download.DownloadError) as info:
        download.download_http("http://nonexistent.invalid/x.tar.gz", data_dir / "x", quiet=True)
    message = str(info.value)
    assert info.value.kind in ("dns", "offline") and "nonexistent.invalid" in message
    assert "could not be resolved" in message or "could not be reached" in message
    assert "quota" not in message.lower() and "Google Drive" not in message


@pytest.mark.parametrize(
    "errno_, text, what, step, kind",
    [
        (
            socket.EAI_NONAME,
            "Name or service not known",
            "the host name example.org could not be resolved (DNS: Name or service not known)",
            "Check the URL",
            "dns",
        ),
        (
            socket.EAI_AGAIN,
            "Temporary failure in name resolution",
            "no network: example.org could not be reached (Temporary failure in name resolution)",
            "Check that this machine is online",
            "offline",
        ),
    ],
    ids=["name-or-service-not-known", "no-network"],
)
def test_name_resolution_failures(data_dir, monkeypatch, errno_, text, what, step, kind):
    refuse_dns(monkeypatch, errno_, text)
    with pytest.raises(download.DownloadError) as info:
        download.download_http("https://example.org/x.tar.gz", data_dir / "x", quiet=True)
    assert info.value.summary == what and info.value.next_step.startswith(step)
    assert info.value.kind == kind


def test_network_unreachable(data_dir, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    with pytest.raises(
        download.DownloadError,
        match=r"no network: 10\.1\.2\.3 could not be reached \(Network is unreachable\)",
    ):
        download.download_http("http://10.1.2.3/x.tar.gz", data_dir / "x", quiet=True)


def test_connection_refused(data_dir):
    url = closed_port_url()
    port = url.split(":")[2].split("/")[0]
    with pytest.raises(download.DownloadError) as info:
        download.download_http(url, data_dir / "x", quiet=True)
    assert info.value.summary == f"127.0.0.1 refused the connection on port {port}"
    assert "server is down or the port is wrong" in info.value.next_step


def test_timeout_of_a_server_that_never_answers(data_dir, monkeypatch):
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 0.3)
    with silent_server() as base, pytest.raises(download.DownloadError) as info:
        download.download_http(base + "/x.tar.gz", data_dir / "x", quiet=True)
    assert info.value.kind == "timeout"
    assert info.value.summary == "127.0.0.1 did not answer (timed out after 0.3 s)"
    assert "retry later" in info.value.next_step
    assert not (data_dir / "x").exists() and not (data_dir / "x.part").exists()


@pytest.mark.parametrize(
    "status, why, kind",
    [
        (403, "the file is not public", "http"),
        (404, "there is no file there", "http"),
        (503, "the server is busy or failing", "busy"),
    ],
)
def test_http_status_messages(server, data_dir, status, why, kind):
    server.state.status["/x.tar.gz"] = status
    with pytest.raises(download.DownloadError) as info:
        download.download_http(server.base + "/x.tar.gz", data_dir / "x", quiet=True)
    assert f"/x.tar.gz answered HTTP {status}" in info.value.summary and why in info.value.summary
    step = "Try again later" if kind == "busy" else "Check the URL"
    assert info.value.kind == kind and info.value.next_step.startswith(step)
    retried = fetch.DOWNLOAD_RETRIES if kind == "busy" else 0  # a busy server gets retries
    assert len(server.state.requests) == 1 + retried


def test_drive_dns_failure_is_not_called_a_quota(data_dir, monkeypatch):
    def fake_download(**kwargs):
        raise ConnectionError(
            "HTTPSConnectionPool(host='drive.google.com', port=443): Max retries exceeded (Caused "
            "by NameResolutionError(\"Failed to resolve 'drive.google.com' ([Errno -2] Name or "
            'service not known)"))'
        )

    monkeypatch.setitem(sys.modules, "gdown", types.SimpleNamespace(download=fake_download))
    with pytest.raises(download.DownloadError) as info:
        REAL_DOWNLOAD_DRIVE("abc", data_dir / download.ARCHIVE_NAME, quiet=True)
    assert info.value.kind == "dns"
    assert "drive.google.com could not be resolved" in str(info.value)
    assert "quota" not in str(info.value).lower() and "Too many users" not in str(info.value)


FAILURES = {  # kind -> (how to make GCS fail that way, in the summary, in the next step)
    "dns": (
        lambda s, d: "http://nonexistent.invalid/x.tar.gz",
        "nonexistent.invalid could not be",
        "online",
    ),
    "refused": (lambda s, d: closed_port_url(), "refused the connection", "check the URL"),
    "timeout": ("silent", "did not answer", "retry later"),
    "403": (lambda s, d: s.base + "/403", "HTTP 403", "direct public link"),
    "404": (lambda s, d: s.base + "/404", "HTTP 404", "direct public link"),
    "503": (lambda s, d: s.base + "/503", "busy or failing", "Try again later"),
    "quota": (
        lambda s, d: s.serve("/q", b"<html>Quota exceeded</html>", "text/html"),
        "HTML web page",
        "Retry in a few hours",
    ),
    "checksum": (
        lambda s, d: s.serve("/c", make_tar_gz(d / "c.tgz", course_members()).read_bytes()),
        "SHA-256",
        "check --sha256",
    ),
    "truncated": (
        lambda s, d: s.serve("/t", make_tar_gz(d / "t.tgz", course_members()).read_bytes()[:-4]),
        "truncated or corrupt",
        "download it again",
    ),
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_each_failure_has_its_message_next_step_and_rerun_command(
    server, data_dir, monkeypatch, capsys, kind
):
    for status in (403, 404, 503):
        server.state.status[f"/{status}"] = status
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 0.3)
    make, summary, step = FAILURES[kind]
    dest = data_dir / "train-dataset"
    argv = ["--source", "gcs", "--dest", str(dest), "--quiet"]
    argv += ["--sha256", "0" * 64] if kind == "checksum" else []
    with silent_server() as silent:
        monkeypatch.setattr(
            download, "GCS_URL", silent + "/x" if make == "silent" else make(server, data_dir)
        )
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert summary in err and step in err and "Traceback" not in err
    assert "python data_download.py --tier full --retry" in err  # from the repository root
    assert "--archive path/to/train-dataset.tar.gz" in err
    assert_nothing_left(data_dir, dest)


def test_no_disk_space_says_so_and_what_to_do(server, data_dir, monkeypatch, capsys):
    url = server.serve("/a.tar.gz", make_tar_gz(data_dir / "s.tgz", course_members()).read_bytes())
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 5000, 5000))
    with pytest.raises(download.DownloadError) as info:
        download.fetch_tier("full", data_dir / "train-dataset", url=url, quiet=True)
    assert info.value.kind == "disk" and "only 5.0 KB is free" in info.value.summary
    assert "--dest" in info.value.next_step
    assert "Trying" not in capsys.readouterr().err  # another source would not help: no fall-through


def test_commands_in_messages_work_from_the_notebooks_folder(data_dir, monkeypatch, capsys):
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert main(["--tier", "small", "--dest", str(data_dir / "small"), "--quiet"]) == 1
    commands = re.findall(r"`(python [^`]+)`", capsys.readouterr().err)
    assert commands and all(c.startswith("python ../data_download.py ") for c in commands)
    for command in commands:
        argv = [sys.executable, *shlex.split(command)[1:], "--help"]
        result = subprocess.run(
            argv, cwd=REPO_ROOT / "notebooks", capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (command, result.stderr)


def test_download_command_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert download.download_command("--tier", "small") == "python data_download.py --tier small"
    monkeypatch.chdir(REPO_ROOT / "solutions")
    assert download.download_command() == "python ../data_download.py"
    monkeypatch.chdir(tmp_path)
    assert (
        download.download_command("--retry") == f"python {REPO_ROOT / 'data_download.py'} --retry"
    )


# --------------------------------------------------------------------------------------------------
# a source that failed in this runtime is not retried on a re-run unless asked


def test_failed_source_is_remembered_for_this_runtime(
    openslr, data_dir, small_archives, capsys, monkeypatch, tmp_path_factory
):
    openslr.state.status["/12/dev-clean.tar.gz"] = 404
    dest = data_dir / "small"
    argv = ["--tier", "small", "--dest", str(dest), "--quiet"]
    assert main(argv) == 1 and len(openslr.state.requests) == 1
    memory = Path(tempfile.gettempdir()) / download.FAILURES_FILE
    assert download.DEV_CLEAN_URL in memory.read_text()
    capsys.readouterr()

    assert main(argv) == 1  # the same runtime: not tried again
    err = capsys.readouterr().err
    assert len(openslr.state.requests) == 1
    assert "failed earlier in this runtime" in err and "HTTP 404" in err and "--retry" in err

    del openslr.state.status["/12/dev-clean.tar.gz"]  # the source is back
    assert main(argv) == 1 and len(openslr.state.requests) == 1  # still remembered
    assert main([*argv, "--retry"]) == 0 and len(openslr.state.requests) == 2
    assert download.DEV_CLEAN_URL not in memory.read_text()  # forgotten once it worked


def test_a_new_runtime_tries_failed_sources_again(openslr, data_dir, monkeypatch, tmp_path_factory):
    openslr.state.status["/12/dev-clean.tar.gz"] = 503
    argv = ["--tier", "small", "--dest", str(data_dir / "small"), "--quiet"]
    assert main(argv) == 1
    tried = len(openslr.state.requests)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("new-runtime")))
    assert main(argv) == 1 and len(openslr.state.requests) == 2 * tried
