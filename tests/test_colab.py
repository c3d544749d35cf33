"""The Colab bootstrap (helpers.colab) and the setup cell the build tool stamps into notebooks."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import sys
from pathlib import Path

import pytest

import helpers.colab as colab
import helpers.download as download

TOOLS = Path(__file__).resolve().parents[1] / "tools"
FAKE_COLAB = Path(__file__).resolve().parent / "colab_sim" / "fake"


@pytest.fixture
def build_tool(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(TOOLS))
    import build_student_notebooks

    return build_student_notebooks


@pytest.fixture
def in_colab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Make this process look like a Colab runtime (the fake google.colab), undone afterwards."""
    monkeypatch.syspath_prepend(str(FAKE_COLAB))
    monkeypatch.setenv("COLAB_SIM_DRIVE", str(tmp_path / "shared-drive"))
    for name in ("AUDIO_COURSE_DRIVE", "AUDIO_COURSE_DATA_KIND", "AUDIO_COURSE_DATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DRIVE_DIR", raising=False)
    saved = {k: v for k, v in sys.modules.items() if k == "google" or k.startswith("google.")}
    import google.colab  # noqa: F401  (registers "google.colab" in sys.modules)

    yield tmp_path
    for name in [k for k in sys.modules if k == "google" or k.startswith("google.")]:
        del sys.modules[name]
    sys.modules.update(saved)


# ------------------------------------------------------------------------------------- packages


@pytest.fixture(autouse=True)
def restore_environment():
    """setup() and get_data() export settings for the notebook (os.environ): undo them after each test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_protected_packages_are_never_in_the_install_list() -> None:
    assert set(colab.PROTECTED) == {"torch", "torchaudio", "numpy", "ipywidgets", "plotly"}
    assert set(colab.PROTECTED).isdisjoint(colab.KIT_PACKAGES.values())


def test_install_skips_protected_and_pins_them_with_constraints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(colab, "missing_packages", lambda needed: ["gdown", "plotly", "numpy"])
    seen: list[tuple[list[str], str]] = []

    def fake_run(cmd: list[str], cwd: Path | None = None) -> int:
        constraints = cmd[cmd.index("-c") + 1]
        seen.append((cmd, Path(constraints).read_text()))
        return 0

    monkeypatch.setattr(colab, "run", fake_run)
    assert colab.install_packages() == ["gdown"]
    ((cmd, pins),) = seen
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert [c for c in cmd[4:] if not c.startswith("-")][1:] == [colab.requirement("gdown")]
    assert f"torch=={importlib.metadata.version('torch')}\n" in pins
    assert f"numpy=={importlib.metadata.version('numpy')}\n" in pins
    assert f"plotly=={importlib.metadata.version('plotly')}\n" in pins
    assert not Path(cmd[cmd.index("-c") + 1]).exists(), "the constraints file is left behind"


def test_nothing_missing_runs_no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(colab, "run", lambda *a, **k: pytest.fail("ran pip with nothing missing"))
    assert colab.install_packages() == []  # this machine has every kit package


def test_pip_failure_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(colab, "missing_packages", lambda needed: ["gdown"])
    monkeypatch.setattr(colab, "run", lambda cmd, cwd=None: 1)
    with pytest.raises(RuntimeError, match=r"pip could not install gdown.*without changing"):
        colab.install_packages()


def test_missing_packages_uses_import_names() -> None:
    assert colab.missing_packages({"json": "json-dist", "no_such_module_xyz": "xyz-dist"}) == [
        "xyz-dist"
    ]


def test_pinned_versions_skip_what_is_absent() -> None:
    pins = colab.pinned_versions(("torch", "no-such-dist-xyz"))
    assert pins == {"torch": importlib.metadata.version("torch")}


def test_link_kit_writes_a_pth_in_the_first_writable_site_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    locked, free = tmp_path / "locked", tmp_path / "free"
    free.mkdir()  # `locked` does not exist, so writing there fails like a read-only folder
    monkeypatch.setattr(colab.site, "getsitepackages", lambda: [str(locked), str(free)])
    assert colab.link_kit(tmp_path / "kit") == free / colab.PTH_NAME
    assert (free / colab.PTH_NAME).read_text() == f"{tmp_path / 'kit'}\n"


def test_link_kit_falls_back_to_pythonpath(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(colab.site, "getsitepackages", lambda: [str(tmp_path / "nowhere")])
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    assert colab.link_kit(tmp_path / "kit") is None
    assert os.environ["PYTHONPATH"] == os.pathsep.join([str(tmp_path / "kit"), "/elsewhere"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("1", True), ("yes", True), ("0", False), ("False", False), ("off", False)],
)
def test_env_flag(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool | None) -> None:
    monkeypatch.setenv("AUDIO_COURSE_SOME_FLAG", value)
    assert colab.env_flag("AUDIO_COURSE_SOME_FLAG") is expected


# --------------------------------------------------------------------------------- setup itself


def test_setup_does_nothing_outside_colab(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(colab, "run", lambda *a, **k: pytest.fail("ran a command outside Colab"))
    monkeypatch.setattr(colab, "get_data", lambda *a, **k: pytest.fail("fetched data"))
    assert "google.colab" not in sys.modules
    assert colab.setup("small", drive=True) is None
    assert "Not running in Colab" in capsys.readouterr().out


def test_setup_rejects_an_unknown_tier() -> None:
    with pytest.raises(ValueError, match="small, full, synthetic, not 'real'"):
        colab.setup("real")


def test_tiers_are_the_download_modules() -> None:
    assert download.TIERS == colab.TIERS


def test_mount_drive_keeps_archives_and_checkpoints_on_drive(in_colab: Path) -> None:
    folder = colab.mount_drive(in_colab / "content" / "drive")
    assert folder == in_colab / "content" / "drive" / "MyDrive" / "audio-course"
    shared = in_colab / "shared-drive" / "MyDrive" / "audio-course"
    assert (shared / "archives").is_dir() and (shared / "checkpoints").is_dir()
    assert os.environ["AUDIO_COURSE_DRIVE_DIR"] == str(folder)


def test_get_data_falls_back_to_synthetic_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    calls = []

    def fake_fetch_tier(tier: str, **kwargs) -> Path:
        calls.append((tier, kwargs))
        if tier != "synthetic":
            raise download.DownloadError("Could not reach www.openslr.org (no network).")
        return tmp_path / "synthetic"

    monkeypatch.setattr(download, "fetch_tier", fake_fetch_tier, raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DATA_KIND", raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DATA", raising=False)
    assert colab.get_data("small", tmp_path / "archives") == tmp_path / "synthetic"
    assert calls == [("small", {"archive_dir": tmp_path / "archives"}), ("synthetic", {})]
    out = capsys.readouterr().out
    assert "Could not reach www.openslr.org" in out and "SMALL SYNTHETIC" in out
    assert os.environ["AUDIO_COURSE_DATA_KIND"] == "synthetic"
    assert os.environ["AUDIO_COURSE_DATA"] == str(tmp_path / "synthetic")
    assert "Run the setup cell again to retry" not in out, "re-running does not retry: say so"
    assert "does NOT retry" in out


def test_the_fallback_is_the_last_word_of_setup_and_repeated_where_the_data_is_used(
    in_colab: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    import helpers.course as course

    def fake_fetch_tier(tier: str, **kwargs) -> Path:
        if tier != "synthetic":
            raise download.DownloadError("Could not resolve www.openslr.org.", kind="dns")
        (tmp_path / "synthetic").mkdir(exist_ok=True)
        return tmp_path / "synthetic"

    monkeypatch.setattr(download, "fetch_tier", fake_fetch_tier, raising=False)
    monkeypatch.setattr(colab, "link_kit", lambda: None)
    monkeypatch.delenv("AUDIO_COURSE_DATA_KIND", raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DATA", raising=False)
    monkeypatch.delenv(download.FALLBACK_ENV, raising=False)
    monkeypatch.chdir(download.paths.REPO_ROOT / "solutions")  # where a Colab notebook runs
    colab.setup("small", drive=False)
    out = capsys.readouterr().out.rstrip().splitlines()
    box = out[-6:]  # the last thing the setup cell prints
    assert box[0].startswith("+-") and box[-1].startswith("+-"), out[-8:]
    assert "The small tier could not be downloaded (dns)" in box[1]
    assert "!python ../data_download.py --tier small --retry" in "\n".join(box)
    assert course.find_dataset() == tmp_path / "synthetic"
    assert "\n".join(box) in capsys.readouterr().out, "the first cell using the data repeats it"
    monkeypatch.setattr(download, "fetch_tier", lambda tier, **kwargs: tmp_path / tier)
    colab.setup("small", drive=False)  # the download works now: no note any more
    assert "could not be downloaded" not in capsys.readouterr().out
    course.find_dataset()
    assert "SYNTHETIC" not in capsys.readouterr().out


def test_setup_in_colab_mounts_drive_from_the_environment_and_times_itself(
    in_colab: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    drive = in_colab / "content" / "drive"
    monkeypatch.setattr(colab, "DRIVE_MOUNT", drive)
    monkeypatch.setattr(colab, "link_kit", lambda: None)
    monkeypatch.setenv("AUDIO_COURSE_DRIVE", "1")
    got = []

    def fake_get_data(tier: str, archive_dir: Path | None) -> Path:
        got.append((tier, archive_dir))
        os.environ["AUDIO_COURSE_DATA_KIND"] = tier
        return in_colab / "data" / tier

    monkeypatch.setattr(colab, "get_data", fake_get_data)
    assert colab.setup("small", drive=False) == in_colab / "data" / "small"
    assert got == [("small", drive / "MyDrive" / "audio-course" / "archives")]
    out = capsys.readouterr().out
    assert "All packages present." in out and "Ready in " in out
    assert f"checkpoints: {drive / 'MyDrive' / 'audio-course' / 'checkpoints'}" in out


def test_setup_without_drive_says_nothing_is_kept(
    in_colab: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(colab, "link_kit", lambda: None)
    monkeypatch.setattr(colab, "mount_drive", lambda: pytest.fail("mounted Drive unasked"))
    monkeypatch.setattr(colab, "get_data", lambda tier, archive_dir: in_colab / tier)
    monkeypatch.setattr(colab, "gpu_line", lambda: "No GPU in this runtime: ...")
    monkeypatch.setenv("AUDIO_COURSE_DATA_KIND", "full")  # the environment overrides the form
    colab.setup("small", drive=False, gpu=True)
    out = capsys.readouterr().out
    assert "tick `drive`" in out and "No GPU in this runtime" in out


# ---------------------------------------------------------------------- the stamped setup cell


def form_fields(code: str) -> dict[str, tuple[object, str]]:
    """``name -> (default value, the # @param annotation)`` of a Colab form."""
    fields = {}
    for line in code.splitlines():
        if "# @param" in line:
            assignment, _, annotation = line.partition("# @param")
            name, _, value = assignment.partition("=")
            fields[name.strip()] = (ast.literal_eval(value.strip()), annotation.strip())
    return fields


@pytest.mark.parametrize(
    ("name", "training"),
    [("01_loading_audio.ipynb", False), ("04_models.ipynb", False), ("05_training.ipynb", True)],
)
def test_setup_cell_is_a_colab_form(build_tool, name: str, training: bool) -> None:
    code = build_tool.setup_code("https://github.com/o/r", f"notebooks/{name}")
    compile(code, "setup", "exec")
    fields = form_fields(code)
    assert fields["drive"] == (False, '{type:"boolean"}')
    default, options = fields["data"]
    choices = ast.literal_eval(options)
    assert default == "small" and default in choices
    assert set(choices) <= set(colab.TIERS) and ("full" in choices) is training
    call = "helpers.colab.setup(data, drive, gpu=True)" if training else "setup(data, drive)"
    assert code.rstrip().endswith(call)
    assert 'REPO = "/content/audio-course"' in code and 'REPO + "/notebooks"' in code


def test_setup_cell_installs_nothing_itself(build_tool) -> None:
    code = build_tool.setup_code("https://github.com/o/r", "solutions/05_training.ipynb")
    assert "pip" not in code and "install" not in code.split("\n", 1)[1]


# ------------------------------------------------------------------ checkpoints across runtimes


def test_checkpoints_go_to_drive_when_mounted_and_must_fit_the_speakers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch

    import helpers.checkpoints as checkpoints
    from helpers.models import make_model

    local = tmp_path / "local"
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", local)
    monkeypatch.delenv(checkpoints.DRIVE_ENV, raising=False)
    assert checkpoints.checkpoint_dir() == local
    monkeypatch.setenv(checkpoints.DRIVE_ENV, str(tmp_path / "drive"))
    assert checkpoints.checkpoint_dir() == tmp_path / "drive" / "checkpoints"

    labels = {"19": 0, "26": 1}
    model = make_model("dense", 8, 2, seed=0)
    assert checkpoints.find_checkpoint("best.pt", labels) is None
    local_best = checkpoints.save_checkpoint(local / "best.pt", model, speaker_to_index=labels)
    assert checkpoints.find_checkpoint("best.pt", labels) == local_best  # this runtime's own
    other = {"7": 0, "8": 1}  # e.g. quick mode's tiny corpus: other classes, not usable here
    drive_best = tmp_path / "drive" / "checkpoints" / "best.pt"
    checkpoints.save_checkpoint(drive_best, model, speaker_to_index=other)
    assert checkpoints.find_checkpoint("best.pt", labels) == local_best
    checkpoints.save_checkpoint(drive_best, model, speaker_to_index=labels)
    assert checkpoints.find_checkpoint("best.pt", labels) == drive_best  # Drive first
    assert checkpoints.find_checkpoint("best.pt") == drive_best
    assert torch.load(drive_best, weights_only=True)["speaker_to_index"] == labels
