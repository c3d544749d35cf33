"""helpers.data: discovery, manifest and its cache, labels, split, Dataset, loader, FeatureCache."""

from __future__ import annotations

import json
import os
import pickle
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import FILES_PER_SPEAKER, N_SPEAKERS, tone

import helpers.cache as cache_module
import helpers.corpus as corpus_module
from helpers.audio import AudioError, fit_length, load_audio
from helpers.cache import FeatureCache
from helpers.corpus import (
    Manifest,
    Utterance,
    describe_split,
    find_audio_files,
    load_label_map,
    load_manifest,
    parse_name,
    save_label_map,
    speaker_to_index,
    split_utterances,
    utterances_to_json,
)
from helpers.dataset import SpeakerDataset, make_loader
from helpers.features import make_feature

pytestmark = pytest.mark.usefixtures("one_thread")

CROP = 48_000  # 3 s at 16 kHz


def utt(speaker: str, name: str, chapter: str | None = None, frames: int = 64_000) -> Utterance:
    return Utterance(f"{speaker}/{name}.flac", speaker, chapter, frames, 16_000)


def long_utterances(manifest: Manifest) -> list[Utterance]:
    return [u for u in manifest.utterances if u.frames > CROP + 1_000]


def short_utterance(manifest: Manifest) -> Utterance:
    return next(u for u in manifest.utterances if u.frames < CROP)


def all_items(dataset: SpeakerDataset) -> list[tuple[torch.Tensor, int]]:
    return [dataset[i] for i in range(len(dataset))]


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
    message = str(record[0].message)
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
    save_label_map(labels, tmp_path / "labels.json")
    assert json.loads((tmp_path / "labels.json").read_text()) == labels
    assert load_label_map(tmp_path / "labels.json") == labels


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
    rows = utterances_to_json(val)
    assert json.loads(json.dumps(rows))[0]["path"] == val[0].path
    assert [Utterance(**row) for row in rows] == val


# --------------------------------------------------------------------------------------------------
# Dataset


def expected_crop(manifest: Manifest, u: Utterance, position: float) -> torch.Tensor:
    start = round(position * max(0, u.frames - CROP))
    return fit_length(load_audio(manifest.root / u.path, start=start, frames=CROP), CROP)


def test_training_items_are_the_decoded_random_windows(manifest: Manifest) -> None:
    labels = speaker_to_index(manifest.utterances)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, train=True, seed=0)
    assert len(dataset) == len(manifest.utterances)
    assert dataset.labels() == [labels[u.speaker] for u in manifest.utterances]
    positions = []
    for i, u in enumerate(manifest.utterances):
        x, y = dataset[i]
        assert x.shape == (CROP,) and x.dtype == torch.float32
        assert isinstance(y, int) and y == labels[u.speaker]
        position = dataset.crop_start(i)
        positions.append(position)
        assert torch.equal(x, expected_crop(manifest, u, position))
    assert len(set(positions)) == len(positions) and 0 <= min(positions) and max(positions) < 1
    assert torch.equal(dataset[-1][0], dataset[len(dataset) - 1][0])
    with pytest.raises(IndexError):
        dataset[len(dataset)]
    assert len(list(iter(dataset))) == len(dataset)  # the old sequence protocol stops


def test_crops_repeat_with_the_seed_and_move_with_the_epoch(manifest: Manifest) -> None:
    labels = speaker_to_index(manifest.utterances)
    utterances = long_utterances(manifest)
    first = SpeakerDataset(utterances, labels, manifest.root, seed=0)
    again = SpeakerDataset(utterances, labels, manifest.root, seed=0)
    epoch0 = all_items(first)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(epoch0, all_items(again)))
    first.set_epoch(1)
    epoch1 = all_items(first)
    assert all(not torch.equal(a[0], b[0]) for a, b in zip(epoch0, epoch1))
    first.set_epoch(0)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(epoch0, all_items(first)))
    other_seed = all_items(SpeakerDataset(utterances, labels, manifest.root, seed=1))
    assert all(not torch.equal(a[0], b[0]) for a, b in zip(epoch0, other_seed))


def test_validation_items_are_the_centre_crop_every_epoch(manifest: Manifest) -> None:
    labels = speaker_to_index(manifest.utterances)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, train=False, seed=0)
    before = all_items(dataset)
    dataset.set_epoch(5)
    for i, (u, (x, _)) in enumerate(zip(manifest.utterances, before)):
        assert dataset.crop_start(i) == 0.5
        assert torch.equal(x, expected_crop(manifest, u, 0.5))
        assert torch.equal(dataset[i][0], x)


def test_short_clip_is_zero_padded_to_the_exact_length(manifest: Manifest) -> None:
    short = short_utterance(manifest)
    labels = speaker_to_index(manifest.utterances)
    whole = load_audio(manifest.root / short.path)
    for train in (True, False):
        x, _ = SpeakerDataset([short], labels, manifest.root, train=train)[0]
        assert x.shape == (CROP,)
        assert torch.equal(x[: short.frames], whole)
        assert x[short.frames :].abs().sum() == 0


@pytest.mark.parametrize(("kind", "shape"), [("mfcc", (40, 301)), ("spectrogram_pooled", (201,))])
def test_items_with_a_feature(manifest: Manifest, kind: str, shape: tuple[int, ...]) -> None:
    labels = speaker_to_index(manifest.utterances)
    feature = make_feature(kind)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, feature=feature)
    waveforms = SpeakerDataset(manifest.utterances, labels, manifest.root)
    for i in (0, 5):
        x, _ = dataset[i]
        assert x.shape == shape
        torch.testing.assert_close(x, feature(waveforms[i][0]))


def test_other_rates_and_formats_give_exact_crops(
    tmp_path: Path, write_audio, reset_resample_warnings
) -> None:
    write_audio(tmp_path / "1" / "a.flac", tone(4.0, 44_100), rate=44_100)
    write_audio(tmp_path / "1" / "b.flac", np.stack([tone(2.0, 16_000)] * 2, axis=1))  # stereo
    write_audio(tmp_path / "2" / "c.ogg", tone(3.5, 16_000, 200), format="OGG")
    write_audio(tmp_path / "2" / "d.wav", tone(5.0, 8_000, 200), rate=8_000, format="WAV")
    manifest = load_manifest(tmp_path, progress=False)
    assert sorted(u.sample_rate for u in manifest.utterances) == [8_000, 16_000, 16_000, 44_100]
    labels = speaker_to_index(manifest.utterances)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the resampling notes
        for train in (True, False):
            dataset = SpeakerDataset(manifest.utterances, labels, tmp_path, train=train)
            for x, _ in all_items(dataset):
                assert x.shape == (CROP,) and torch.isfinite(x).all()
                assert x.abs().max() > 0.1


def test_undecodable_file_is_reported_and_replaced(corpus_copy: Path, bad_files) -> None:
    speaker = sorted(p for p in corpus_copy.iterdir() if p.is_dir())[0]
    bad_files(speaker)
    with pytest.warns(UserWarning, match="skipped 3"):
        manifest = load_manifest(corpus_copy, progress=False)
    # A file corrupted after the manifest was made: its cached header entry is now stale.
    victim = manifest.utterances[-1]
    (corpus_copy / victim.path).write_bytes(b"\x00" * 1000)
    labels = speaker_to_index(manifest.utterances)
    dataset = SpeakerDataset(manifest.utterances, labels, corpus_copy, train=True)
    header_only = next(
        i for i, u in enumerate(manifest.utterances) if u.path.endswith("flac_header_only.flac")
    )
    with pytest.warns(UserWarning, match="flac_header_only.flac.*Using the next file"):
        x, y = dataset[header_only]
    assert x.shape == (CROP,)
    nxt = manifest.utterances[header_only + 1]
    assert y == labels[nxt.speaker] and torch.equal(x, dataset[header_only + 1][0])
    with pytest.warns(UserWarning, match=victim.path):
        x, y = dataset[len(dataset) - 1]  # the last file wraps round to the first
    assert torch.equal(x, dataset[0][0]) and y == dataset[0][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loader = make_loader(dataset, batch_size=8, num_workers=2)
        assert sum(len(y) for _, y in loader) == len(dataset)  # no crash inside a worker


def test_a_dataset_of_only_bad_files_fails_clearly(tmp_path: Path, bad_files) -> None:
    path = bad_files(tmp_path / "1")["flac_header_only"]
    u = Utterance(path.relative_to(tmp_path).as_posix(), "1", None, 16_000, 16_000)
    dataset = SpeakerDataset([u, u], {"1": 0}, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AudioError, match="none of the 2 files"):
            dataset[0]


def test_utterance_crops_cover_the_file(manifest: Manifest) -> None:
    labels = speaker_to_index(manifest.utterances)
    long_one = max(manifest.utterances, key=lambda u: u.frames)  # 3 to 4 s: two crops
    index = manifest.utterances.index(long_one)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, train=False)
    crops = dataset.utterance_crops(index)
    whole = load_audio(manifest.root / long_one.path)
    assert crops.shape == (2, CROP)
    assert torch.equal(crops[0], whole[:CROP]) and torch.equal(crops[-1], whole[-CROP:])
    assert dataset.utterance_crops(index, max_crops=1).shape == (1, CROP)
    short_index = manifest.utterances.index(short_utterance(manifest))
    assert dataset.utterance_crops(short_index).shape == (1, CROP)
    feature = make_feature("mfcc")
    with_feature = SpeakerDataset(manifest.utterances, labels, manifest.root, feature, train=False)
    torch.testing.assert_close(with_feature.utterance_crops(index), feature(crops))


# --------------------------------------------------------------------------------------------------
# Loader


def test_make_loader_batches(manifest: Manifest) -> None:
    labels = speaker_to_index(manifest.utterances)
    for feature, shape in [(None, (CROP,)), (make_feature("mfcc"), (40, 301))]:
        dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, feature=feature)
        batches = list(make_loader(dataset, batch_size=8, num_workers=0))
        assert [len(y) for _, y in batches] == [8, 8, 4]
        x, y = batches[0]
        assert x.shape == (8, *shape) and x.dtype == torch.float32
        assert y.dtype == torch.int64
        assert y.tolist() == dataset.labels()[:8]
    assert len(list(make_loader(dataset, batch_size=8, num_workers=0, drop_last=True))) == 2


def test_shuffle_follows_the_seed(manifest: Manifest) -> None:
    labels = speaker_to_index(manifest.utterances)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root)
    order = lambda seed: [  # noqa: E731
        y.tolist()
        for _, y in make_loader(dataset, batch_size=20, shuffle=True, seed=seed, num_workers=0)
    ]
    assert order(0) == order(0) and order(0) != order(1)
    assert sorted(order(0)[0]) == sorted(dataset.labels())


def test_workers_give_the_same_batches_as_the_main_process(
    manifest: Manifest, tmp_path: Path
) -> None:
    labels = speaker_to_index(manifest.utterances)
    cache = FeatureCache(manifest.root, manifest.utterances, cache_dir=tmp_path, progress=False)
    for cached in (None, cache):
        dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, seed=3, cache=cached)
        dataset.set_epoch(2)
        runs = []
        for workers in (0, 2):
            loader = make_loader(dataset, batch_size=6, shuffle=True, seed=5, num_workers=workers)
            runs.append(list(loader))
        assert len(runs[0]) == len(runs[1]) == 4
        for (x0, y0), (x2, y2) in zip(*runs):
            assert torch.equal(x0, x2) and torch.equal(y0, y2)


# --------------------------------------------------------------------------------------------------
# FeatureCache


def test_waveform_cache_equals_decoded_crops(manifest: Manifest, tmp_path: Path) -> None:
    labels = speaker_to_index(manifest.utterances)
    cache = FeatureCache(manifest.root, manifest.utterances, cache_dir=tmp_path, progress=False)
    assert cache.path.parent == tmp_path and cache.array.dtype == np.int16
    for train in (True, False):
        decoded = SpeakerDataset(manifest.utterances, labels, manifest.root, train=train)
        cached = SpeakerDataset(
            manifest.utterances, labels, manifest.root, train=train, cache=cache
        )
        for epoch in (0, 1):
            decoded.set_epoch(epoch)
            cached.set_epoch(epoch)
            for (a, ya), (b, yb) in zip(all_items(decoded), all_items(cached)):
                assert ya == yb
                assert torch.equal(a, b)  # 16-bit files: int16 holds their samples exactly
    index = manifest.utterances.index(max(manifest.utterances, key=lambda u: u.frames))
    assert torch.equal(cached.utterance_crops(index), decoded.utterance_crops(index))


def test_waveform_cache_quantises_other_sources_to_int16(tmp_path: Path, write_audio) -> None:
    original = tone(1.0, 16_000) * 0.8
    write_audio(tmp_path / "1" / "a.wav", original, format="WAV", subtype="FLOAT")
    manifest = load_manifest(tmp_path, progress=False)
    cache = FeatureCache(tmp_path, manifest.utterances, progress=False)
    assert cache.path.parent == tmp_path / ".cache"  # next to the data by default
    crop = cache.crop(manifest.utterances[0], 0.0, 3.0)
    assert crop.shape == (CROP,) and crop[16_000:].abs().sum() == 0
    assert (crop[:16_000] - torch.from_numpy(original)).abs().max() <= 0.5 / 32768 + 1e-7


def frame_aligned_position(u: Utterance, hop: int = 160) -> float:
    """A crop position whose start (in samples) is a whole number of frames."""
    room = u.frames - CROP
    return (room // 2) // hop * hop / room


@pytest.mark.parametrize("kind", ["spectrogram", "mfcc"])
def test_feature_cache_matches_decoded_features(
    manifest: Manifest, tmp_path: Path, kind: str
) -> None:
    utterances = long_utterances(manifest)
    raw = make_feature(kind, normalize=False)
    cache = FeatureCache(manifest.root, utterances, feature=raw, cache_dir=tmp_path, progress=False)
    assert cache.array.dtype == np.float16 and cache.array.shape[1] == raw.n_bins
    normalised = make_feature(kind)
    normalised_cache = FeatureCache(
        manifest.root, utterances, normalised, cache_dir=tmp_path, progress=False
    )
    pooled = make_feature(f"{kind}_pooled")
    pooled_cache = FeatureCache(
        manifest.root, utterances, pooled, cache_dir=tmp_path, progress=False
    )
    for u in utterances:
        position = frame_aligned_position(u)
        waveform = expected_crop(manifest, u, position)
        got = cache.crop(u, position, 3.0)
        assert got.shape == raw(waveform).shape == (raw.n_bins, 301)
        # Equal but for float16 rounding, except the 2 edge frames at each end (STFT padding).
        torch.testing.assert_close(got[:, 2:-2], raw(waveform)[:, 2:-2], rtol=2e-3, atol=1e-2)
        gap = (normalised_cache.crop(u, position, 3.0) - normalised(waveform))[:, 2:-2].abs()
        assert gap.mean() < 0.02 and gap.max() < 0.5
        torch.testing.assert_close(
            pooled_cache.crop(u, position, 3.0), pooled(waveform), rtol=5e-3, atol=0.1
        )


def test_feature_cache_pads_short_clips_with_silence(manifest: Manifest, tmp_path: Path) -> None:
    short = short_utterance(manifest)
    raw = make_feature("spectrogram", normalize=False)
    cache = FeatureCache(manifest.root, [short], feature=raw, cache_dir=tmp_path, progress=False)
    got = cache.crop(short, 0.3, 3.0)
    expected = raw(fit_length(load_audio(manifest.root / short.path), CROP))
    assert got.shape == expected.shape == (201, 301)
    end = raw.frames(short.frames)
    torch.testing.assert_close(got[:, 2 : end - 2], expected[:, 2 : end - 2], rtol=2e-3, atol=1e-2)
    torch.testing.assert_close(got[:, end + 2 :], expected[:, end + 2 :], rtol=0, atol=1e-2)


def test_cache_is_reused_not_rebuilt(manifest: Manifest, tmp_path: Path, monkeypatch) -> None:
    feature = make_feature("mfcc")
    first = FeatureCache(
        manifest.root, manifest.utterances, feature, cache_dir=tmp_path, progress=False
    )
    stamp = first.path.stat().st_mtime_ns

    def no_decoding(*args, **kwargs):
        raise AssertionError("the cache was rebuilt")

    monkeypatch.setattr(cache_module, "load_audio", no_decoding)
    shuffled = list(reversed(manifest.utterances))  # same files in another order: same cache
    second = FeatureCache(
        manifest.root, shuffled, make_feature("mfcc"), cache_dir=tmp_path, progress=False
    )
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp
    u = manifest.utterances[2]
    assert torch.equal(second.crop(u, 0.25, 3.0), first.crop(u, 0.25, 3.0))
    assert len(list(tmp_path.glob("*.npy"))) == 1  # and no partial file left behind
    other = make_feature("mfcc", n_mels=64)
    with pytest.raises(AssertionError, match="rebuilt"):  # another setting is another cache
        FeatureCache(manifest.root, manifest.utterances, other, cache_dir=tmp_path, progress=False)


def test_cache_build_survives_a_file_that_fails_to_decode(corpus_copy: Path) -> None:
    manifest = load_manifest(corpus_copy, progress=False)
    victim = manifest.utterances[4]
    (corpus_copy / victim.path).write_bytes(b"\x00" * 64)  # corrupted after the manifest
    with pytest.warns(UserWarning, match=f"{victim.path}.*Cached as silence"):
        cache = FeatureCache(corpus_copy, manifest.utterances, progress=False)
    assert cache.crop(victim, 0.5, 3.0).abs().sum() == 0
    assert cache.crop(manifest.utterances[5], 0.5, 3.0).abs().sum() > 0


def test_interrupted_cache_build_leaves_nothing_behind(
    manifest: Manifest, tmp_path: Path, monkeypatch
) -> None:
    calls = []
    real_load_audio = cache_module.load_audio

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == 5:
            raise KeyboardInterrupt  # the user stops the build half way
        return real_load_audio(*args, **kwargs)

    monkeypatch.setattr(cache_module, "load_audio", interrupted)
    with pytest.raises(KeyboardInterrupt):
        FeatureCache(manifest.root, manifest.utterances, cache_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []  # no partial array, no index
    monkeypatch.setattr(cache_module, "load_audio", real_load_audio)
    cache = FeatureCache(manifest.root, manifest.utterances, cache_dir=tmp_path, progress=False)
    assert np.load(cache.path).shape == (sum(u.frames for u in manifest.utterances),)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".npy"]


def test_cache_pickles_without_its_array(manifest: Manifest, tmp_path: Path) -> None:
    feature = make_feature("spectrogram")
    cache = FeatureCache(
        manifest.root, manifest.utterances, feature, cache_dir=tmp_path, progress=False
    )
    blob = pickle.dumps(cache)
    assert len(blob) < cache.array.nbytes / 10
    clone = pickle.loads(blob)
    assert isinstance(clone.array, np.memmap)
    u = manifest.utterances[7]
    assert torch.equal(clone.crop(u, 0.6, 3.0), cache.crop(u, 0.6, 3.0))


def test_dataset_checks_the_cache_feature(manifest: Manifest, tmp_path: Path) -> None:
    labels = speaker_to_index(manifest.utterances)
    mfcc = make_feature("mfcc")
    feature_cache = FeatureCache(
        manifest.root, manifest.utterances, mfcc, cache_dir=tmp_path, progress=False
    )
    with pytest.raises(ValueError, match="the cache holds"):
        SpeakerDataset(
            manifest.utterances,
            labels,
            manifest.root,
            make_feature("spectrogram"),
            cache=feature_cache,
        )
    wave_cache = FeatureCache(
        manifest.root, manifest.utterances, cache_dir=tmp_path, progress=False
    )
    through_wave_cache = SpeakerDataset(
        manifest.utterances, labels, manifest.root, mfcc, cache=wave_cache
    )
    decoded = SpeakerDataset(manifest.utterances, labels, manifest.root, mfcc)
    for i in (0, 9):
        torch.testing.assert_close(through_wave_cache[i][0], decoded[i][0])
    assert through_wave_cache.utterance_crops(3).shape[1:] == (40, 301)
    with pytest.raises(ValueError, match="sample rate"):
        SpeakerDataset(
            manifest.utterances, labels, manifest.root, cache=wave_cache, sample_rate=8_000
        )
