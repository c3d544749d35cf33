"""The student's path through Colab, simulated: each notebook in a fresh runtime, Drive shared.

See ``tests/colab_sim/__init__.py`` for what a simulated runtime is. Every test starts from an
empty Drive, so the tests do not depend on each other's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from colab_sim.runtime import Course, setup_index
from colab_sim.tiers import ARCHIVE_NAMES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    with Course.create(tmp_path_factory.mktemp("colab-sim"), ROOT) as shared:
        yield shared


@pytest.fixture
def fresh(course: Course) -> Course:
    """The course with an empty Drive (a student who has run nothing yet)."""
    course.forget_drive()
    return course


def setup_only(path: Path) -> int:
    """How many cells to run for the setup cell and everything before it."""
    return setup_index(nbformat.read(path, as_version=4)) + 1


def drive_dir(runtime) -> Path:
    return runtime.content / "drive" / "MyDrive" / "audio-course"


def test_student_01_runs_its_setup_and_stops_at_its_first_fixme(fresh: Course) -> None:
    path = ROOT / "notebooks" / "01_loading_audio.ipynb"
    runtime = fresh.runtime(AUDIO_COURSE_DRIVE="1")
    run = runtime.run(path)
    nb = nbformat.read(path, as_version=4)
    first_fixme, instruction = next(
        (i, line.strip().removeprefix("# "))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if line.strip().startswith("# FIXME:")
    )
    # The FIXME cell may only define a function: the stop comes where it is first called.
    assert run.error is not None and run.error.ename == "NotImplementedError", run.all_text[-3000:]
    assert run.error.evalue == instruction and run.failed_cell >= first_fixme
    setup = run.text(setup_index(nb))
    assert "All packages present." in setup and "$ " not in setup, "the setup ran pip"
    assert "Ready in " in setup and "downloaded once, kept in" in setup
    assert [r.path for r in run.archive_requests] == [f"/{ARCHIVE_NAMES['small']}"]
    assert (runtime.repo / ".git").is_dir(), "the setup cell did not clone the kit"
    assert (fresh.drive / "MyDrive" / "audio-course" / "archives").is_dir()


def test_a_second_runtime_makes_no_archive_request(fresh: Course) -> None:
    first = fresh.runtime(AUDIO_COURSE_DRIVE="1")
    path = ROOT / "solutions" / "02_time_and_frequency.ipynb"
    assert len(first.run(path, setup_only(path)).archive_requests) == 1
    second = fresh.runtime(AUDIO_COURSE_DRIVE="1")
    path = ROOT / "solutions" / "03_dataset.ipynb"
    run = second.run(path, setup_only(path))
    assert run.error is None, run.all_text[-3000:]
    assert run.requests == [], "the second runtime asked the data server for something"
    assert "nothing downloaded" in run.all_text and "Ready in " in run.all_text
    assert (second.repo / "data").is_dir()


def test_without_drive_every_runtime_downloads_again(fresh: Course) -> None:
    path = ROOT / "solutions" / "02_time_and_frequency.ipynb"
    for _ in range(2):
        run = fresh.runtime().run(path, setup_only(path))
        assert run.error is None, run.all_text[-3000:]
        assert len(run.archive_requests) == 1 and "not kept" in run.all_text


def test_full_tier_in_its_real_layout(fresh: Course) -> None:
    path = ROOT / "solutions" / "05_training.ipynb"
    runtime = fresh.runtime(AUDIO_COURSE_DATA_KIND="full")
    run = runtime.run(path, setup_only(path))
    assert run.error is None, run.all_text[-3000:]
    assert [r.path for r in run.archive_requests] == [f"/{ARCHIVE_NAMES['full']}"]
    assert "data tier 'full'" in run.all_text
    assert "Runtime → Change runtime type → T4 GPU" in run.all_text


def test_05_to_07_on_the_gpu_path_with_05s_checkpoint_on_drive(fresh: Course) -> None:
    """05 trains and saves on Drive; 06, in another runtime, loads it; 07 runs; all on the GPU path."""
    gpu_path = {"AUDIO_COURSE_DRIVE": "1", "AUDIO_COURSE_FEATURES_ON_DEVICE": "1"}
    trained = fresh.runtime(**gpu_path).run(ROOT / "solutions" / "05_training.ipynb")
    assert trained.error is None, trained.all_text[-3000:]
    assert "features per batch on cpu" in trained.all_text, "05 did not take the GPU branch"
    assert "Runtime → Change runtime type → T4 GPU" in trained.all_text
    saved = fresh.drive / "MyDrive" / "audio-course" / "checkpoints" / "best.pt"
    assert saved.is_file(), "05 did not save its best model on Drive"
    runtime = fresh.runtime(**gpu_path)
    run = runtime.run(ROOT / "solutions" / "06_embeddings.ipynb")
    assert run.error is None, run.all_text[-3000:]
    assert run.archive_requests == []
    assert f"using {drive_dir(runtime) / 'checkpoints' / 'best.pt'}" in run.all_text
    assert "recommended model here instead" not in run.all_text
    runtime = fresh.runtime(**gpu_path)
    verified = runtime.run(ROOT / "solutions" / "07_speaker_verification.ipynb")
    assert verified.error is None, verified.all_text[-3000:]
    assert verified.archive_requests == [] and "Headline: " in verified.all_text
    kept = drive_dir(runtime) / "checkpoints"
    assert f"saved {kept / '07_aam.pt'}" in verified.all_text, "07 did not keep its model on Drive"
    reopened = fresh.runtime(**gpu_path).run(ROOT / "solutions" / "07_speaker_verification.ipynb")
    assert reopened.error is None, reopened.all_text[-3000:]
    assert reopened.all_text.count("trained in an earlier run") == 2, (
        "07 retrained in a new runtime"
    )
    assert "Headline: " in reopened.all_text


def test_05_in_a_fresh_runtime_trains_the_models_written_in_04(fresh: Course) -> None:
    """04 writes the student's classes to Drive; 05, in another runtime, imports and trains them."""
    wrote = fresh.runtime(AUDIO_COURSE_DRIVE="1").run(ROOT / "solutions" / "04_models.ipynb")
    assert wrote.error is None, wrote.all_text[-3000:]
    saved = fresh.drive / "MyDrive" / "audio-course" / "checkpoints" / "my_models.pkl"
    assert saved.is_file(), "04 did not write the student's model code on Drive"
    assert b"stats_pool" in saved.read_bytes(), "the helper CNN1d uses was not carried"
    runtime = fresh.runtime(AUDIO_COURSE_DRIVE="1")
    trained = runtime.run(ROOT / "solutions" / "05_training.ipynb")
    assert trained.error is None, trained.all_text[-3000:]
    loaded = drive_dir(runtime) / "checkpoints" / "my_models.pkl"
    assert (
        f"Your classes of notebook 04, from {loaded}: DenseClassifier, CNN1d, CNN2d"
        in trained.all_text
    )
    assert "Training 6 models" in trained.all_text
    assert "comparison table: 6 models" in trained.all_text
    assert "your cnn1d" in trained.all_text and "your cnn2d" in trained.all_text


def test_05_without_04_says_so_and_trains_the_reference_models(fresh: Course) -> None:
    trained = fresh.runtime(AUDIO_COURSE_DRIVE="1").run(ROOT / "solutions" / "05_training.ipynb")
    assert trained.error is None, trained.all_text[-3000:]
    assert "No model code from notebook 04" in trained.all_text
    assert "Training 3 models" in trained.all_text
