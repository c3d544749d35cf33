"""Tests of ``helpers.download`` / ``data_download.py``, offline, against a loopback HTTP server."""

from __future__ import annotations

import hashlib
import io
import re
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

from helpers import download, paths
from helpers.cli.download import main

REPO_ROOT = Path(__file__).resolve().parent.parent
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
    monkeypatch.setattr(download, "RETRY_WAIT_SECONDS", 0.0)
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
    assert download.detect_layout(archive) == "librispeech"
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
    assert len(server.state.requests) == download.DOWNLOAD_RETRIES + 1
    part = data_dir / f"{download.ARCHIVE_NAME}.part"
    assert part.stat().st_size == 1000 * (download.DOWNLOAD_RETRIES + 1)
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
