"""helpers.corpus: discovery, the manifest and its cache, labels, the seeded split."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import warnings
from pathlib import Path

import pytest
import soundfile as sf
from conftest import FILES_PER_SPEAKER, N_SPEAKERS, all_items, tone, utt

import helpers.corpus as corpus_module
from helpers.corpus import (
    Manifest,
    Utterance,
    describe_split,
    find_audio_files,
    load_manifest,
    parse_name,
    speaker_to_index,
    split_utterances,
)
from helpers.dataset import SpeakerDataset

pytestmark = pytest.mark.usefixtures("one_thread")


# --------------------------------------------------------------------------------------------------
# Discovery and manifest


def test_find_audio_files_flat(corpus: Path) -> None:
    files = find_audio_files(corpus)
    assert len(files) == N_SPEAKERS * FILES_PER_SPEAKER
    assert files == sorted(files)
    assert all(f.suffix == ".flac" and f.parent.parent == corpus for f in files)


def test_hidden_and_foreign_files_are_ignored(corpus_copy: Path, write_audio) -> None:
    speaker = sorted(p for p in corpus_copy.iterdir() if p.is_dir())[0]
    (speaker / ".DS_Store").write_bytes(b"\x00\x01junk")
    (speaker / f"._{speaker.name}-1-0001.flac").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (speaker / "notes.txt").write_text("not audio")
    (corpus_copy / "README.flac").write_bytes(b"a file at the top: not in a speaker folder")
    write_audio(corpus_copy / ".cache" / "x" / "hidden.flac", tone(0.5, 16_000))
    write_audio(corpus_copy / ".trash" / "old.flac", tone(0.5, 16_000))
    write_audio(speaker / "EXTRA.FLAC", tone(0.5, 16_000))  # upper-case suffix: audio
    files = find_audio_files(corpus_copy)
    assert len(files) == N_SPEAKERS * FILES_PER_SPEAKER + 1
    assert speaker / "EXTRA.FLAC" in files
    assert not any(part.startswith(".") for f in files for part in f.relative_to(corpus_copy).parts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing hidden was even opened: no "skipped" warning
        manifest = load_manifest(corpus_copy, progress=False)
    assert len(manifest.utterances) == len(files) and not manifest.skipped


def test_nested_librispeech_layout(nested_corpus: Path) -> None:
    files = find_audio_files(nested_corpus)
    assert len(files) == 3 * 4
    assert all(len(f.relative_to(nested_corpus).parts) == 3 for f in files)
    manifest = load_manifest(nested_corpus, progress=False)
    for u in manifest.utterances:
        speaker, chapter, _ = Path(u.path).parts
        assert (u.speaker, u.chapter) == (speaker, chapter)
    assert {
        len({u.chapter for u in manifest.utterances if u.speaker == s})
        for s in {u.speaker for u in manifest.utterances}
    } == {2}


def test_parse_name() -> None:
    assert parse_name(Path("19/19-198-0001.flac")) == ("19", "198")
    assert parse_name(Path("19/198/19-198-0001.flac")) == ("19", "198")
    assert parse_name(Path("alice/take one.wav")) == ("alice", None)
    assert parse_name(Path("007/007-x-intro-2.ogg")) == ("007", "x")


def test_missing_folder_points_to_the_download(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"data_download\.py") as error:
        load_manifest(tmp_path / "nowhere")
    assert "nowhere" in str(error.value)


def test_folder_without_audio_names_it(tmp_path: Path) -> None:
    (tmp_path / "19").mkdir()
    (tmp_path / "19" / "readme.txt").write_text("no audio here")
    with pytest.raises(FileNotFoundError) as error:
        load_manifest(tmp_path)
    assert str(tmp_path) in str(error.value) and "data_download.py" in str(error.value)


def test_manifest_describes_every_file(manifest: Manifest) -> None:
    assert len(manifest.utterances) == N_SPEAKERS * FILES_PER_SPEAKER
    assert len({u.speaker for u in manifest.utterances}) == N_SPEAKERS
    for u in manifest.utterances:
        info = sf.info(manifest.root / u.path)
        assert (u.frames, u.sample_rate) == (info.frames, info.samplerate)
        assert u.speaker == Path(u.path).parts[0] and u.chapter is not None
        assert u.seconds == pytest.approx(info.duration)
    assert (manifest.root / ".manifest.json").exists()
    assert manifest.summary().startswith(
        f"{N_SPEAKERS * FILES_PER_SPEAKER} files, {N_SPEAKERS} speakers"
    )
    assert "skipped" not in manifest.summary()


def test_bad_files_are_skipped_and_reported(corpus_copy: Path, bad_files) -> None:
    speaker = sorted(p for p in corpus_copy.iterdir() if p.is_dir())[0]
    bad = bad_files(speaker)
    with pytest.warns(UserWarning, match="skipped 3 unreadable file") as record:
        manifest = load_manifest(corpus_copy, progress=False)
    # record holds every warning raised meanwhile (a ResourceWarning of a garbage-collected socket too)
    message = next(str(w.message) for w in record if "unreadable file" in str(w.message))
    skipped = dict(manifest.skipped)
    for kind in ("corrupt", "empty", "header_only"):
        relative = bad[kind].relative_to(corpus_copy).as_posix()
        assert relative in skipped and str(bad[kind]) in skipped[relative]
        assert relative in message
    assert "no audio" in skipped[bad["header_only"].relative_to(corpus_copy).as_posix()]
    # A readable header with no audio behind it passes the manifest: the Dataset deals with it.
    assert any(u.path.endswith("flac_header_only.flac") for u in manifest.utterances)
    assert len(manifest.utterances) == N_SPEAKERS * FILES_PER_SPEAKER + 1
    assert manifest.summary().endswith("3 skipped")
    with pytest.warns(UserWarning, match="skipped 3"):  # still reported from the cached manifest
        again = load_manifest(corpus_copy, progress=False)
    assert again.skipped == manifest.skipped


def test_manifest_cache_reads_only_new_or_changed_files(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch, write_audio
) -> None:
    calls: list[Path] = []
    real_audio_info = corpus_module.audio_info

    def counting_audio_info(path):
        calls.append(Path(path))
        return real_audio_info(path)

    monkeypatch.setattr(corpus_module, "audio_info", counting_audio_info)
    n = N_SPEAKERS * FILES_PER_SPEAKER
    first = load_manifest(corpus_copy, progress=False)
    assert len(calls) == n

    calls.clear()
    second = load_manifest(corpus_copy, progress=False)
    assert calls == [] and second.utterances == first.utterances

    touched = corpus_copy / first.utterances[3].path
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = load_manifest(corpus_copy, progress=False)
    assert calls == [touched] and third.utterances == first.utterances

    calls.clear()
    new = corpus_copy / first.utterances[0].speaker / "new-take.flac"
    write_audio(new, tone(1.0, 16_000))
    fourth = load_manifest(corpus_copy, progress=False)
    assert calls == [new] and len(fourth.utterances) == n + 1

    calls.clear()
    new.unlink()
    assert len(load_manifest(corpus_copy, progress=False).utterances) == n and calls == []
    assert len(load_manifest(corpus_copy, refresh=True, progress=False).utterances) == n
    assert len(calls) == n


def test_broken_manifest_cache_is_rebuilt(corpus_copy: Path) -> None:
    load_manifest(corpus_copy, progress=False)
    (corpus_copy / ".manifest.json").write_text("{ not json")
    with pytest.warns(UserWarning, match="not a valid manifest"):
        manifest = load_manifest(corpus_copy, progress=False)
    assert len(manifest.utterances) == N_SPEAKERS * FILES_PER_SPEAKER
    assert json.loads((corpus_copy / ".manifest.json").read_text())["version"] == 1


def test_non_integer_speaker_names(tmp_path: Path, write_audio) -> None:
    for speaker in ("bob", "alice", "0042", "7"):
        for k in range(2):
            write_audio(tmp_path / speaker / f"take{k}.wav", tone(1.0 + k, 16_000), format="WAV")
    manifest = load_manifest(tmp_path, progress=False)
    labels = speaker_to_index(manifest.utterances)
    assert labels == {"7": 0, "0042": 1, "alice": 2, "bob": 3}  # numbers as numbers, then names
    train, val = split_utterances(manifest.utterances, seed=0)
    assert {u.speaker for u in train} == {u.speaker for u in val} == set(labels)
    dataset = SpeakerDataset(train, labels, tmp_path)
    assert sorted(set(dataset.labels())) == [0, 1, 2, 3]
    assert all(isinstance(y, int) for _, y in all_items(dataset))


# --------------------------------------------------------------------------------------------------
# Labels


def test_speaker_to_index_is_sorted_and_survives_json(tmp_path: Path) -> None:
    utterances = [utt(s, "a") for s in ("8975", "103", "19", "103", "zed")]
    labels = speaker_to_index(utterances)
    assert labels == {"19": 0, "103": 1, "8975": 2, "zed": 3}
    assert speaker_to_index(list(reversed(utterances))) == labels
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    assert json.loads((tmp_path / "labels.json").read_text()) == labels


# --------------------------------------------------------------------------------------------------
# Split


def test_split_puts_every_speaker_on_both_sides(manifest: Manifest) -> None:
    train, val = split_utterances(manifest.utterances, val_fraction=0.3, seed=0)
    assert (
        {u.speaker for u in train}
        == {u.speaker for u in val}
        == {u.speaker for u in manifest.utterances}
    )
    assert not {u.path for u in train} & {u.path for u in val}
    assert sorted(train + val, key=lambda u: u.path) == sorted(
        manifest.utterances, key=lambda u: u.path
    )
    for speaker in {u.speaker for u in manifest.utterances}:  # round(0.3 * 5) = 2 held out
        assert sum(u.speaker == speaker for u in val) == 2


def test_split_is_reproducible_whatever_the_input_order(manifest: Manifest) -> None:
    reference = split_utterances(manifest.utterances, seed=0)
    shuffled = list(manifest.utterances)
    random.Random(1).shuffle(shuffled)
    assert split_utterances(shuffled, seed=0) == reference
    assert split_utterances(list(reversed(manifest.utterances)), seed=0) == reference
    others = [split_utterances(manifest.utterances, seed=s)[1] for s in (1, 2, 3)]
    assert any({u.path for u in v} != {u.path for u in reference[1]} for v in others)


def test_single_file_speaker_is_reported_not_fatal() -> None:
    utterances = [utt("10", f"f{i}") for i in range(5)] + [utt("20", "only")]
    with pytest.warns(UserWarning, match=r"single file.*'20'"):
        train, val = split_utterances(utterances, seed=0)
    assert [u.speaker for u in train].count("20") == 1
    assert all(u.speaker == "10" for u in val) and len(val) == 2


def test_chapter_split_keeps_each_chapter_on_one_side(
    manifest: Manifest, nested_corpus: Path
) -> None:
    nested = load_manifest(nested_corpus, progress=False).utterances
    for utterances in (manifest.utterances, nested):
        train, val = split_utterances(utterances, seed=0, by="chapter")
        chapters = lambda us: {(u.speaker, u.chapter) for u in us}  # noqa: E731
        assert not chapters(train) & chapters(val)
        assert {u.speaker for u in train} == {u.speaker for u in val}
        assert len(train) + len(val) == len(utterances)


def test_chapter_split_falls_back_for_single_chapter_speakers() -> None:
    utterances = [utt("10", f"a{i}", chapter="1") for i in range(4)]
    utterances += [utt("20", f"b{i}", chapter=str(i % 2)) for i in range(4)]
    with pytest.warns(UserWarning, match=r"one chapter split by file.*'10'"):
        train, val = split_utterances(utterances, seed=0, by="chapter")
    assert {u.speaker for u in train} == {u.speaker for u in val} == {"10", "20"}


def test_split_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="by must be"):
        split_utterances([utt("1", "a")], by="speaker")


def test_describe_split_and_json(manifest: Manifest) -> None:
    train, val = split_utterances(manifest.utterances, seed=0)
    summary = describe_split(train, val)
    assert (summary["train_files"], summary["val_files"]) == (len(train), len(val))
    assert summary["train_speakers"] == summary["val_speakers"] == N_SPEAKERS
    rows = [dataclasses.asdict(u) for u in val]
    assert json.loads(json.dumps(rows))[0]["path"] == val[0].path
    assert [Utterance(**row) for row in rows] == val
