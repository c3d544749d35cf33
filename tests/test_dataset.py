"""helpers.dataset: crops decoded from the files, utterance crops, the DataLoader."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import CROP, all_items, expected_crop, long_utterances, short_utterance, tone

from helpers.audio import AudioError, load_audio
from helpers.cache import FeatureCache
from helpers.corpus import (
    Manifest,
    Utterance,
    load_manifest,
    speaker_to_index,
)
from helpers.dataset import SpeakerDataset, make_loader
from helpers.features import make_feature

pytestmark = pytest.mark.usefixtures("one_thread")


def test_training_items_are_the_decoded_random_windows(manifest: Manifest) -> None:
    labels = speaker_to_index(manifest.utterances)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, train=True, seed=0)
    assert len(dataset) == len(manifest.utterances)
    assert dataset.labels() == [labels[u.speaker] for u in manifest.utterances]
    positions = []
    for i, u in enumerate(manifest.utterances):
        x, y = dataset[i]
        assert x.shape == (min(CROP, u.frames),) and x.dtype == torch.float32
        assert isinstance(y, int) and y == labels[u.speaker]
        position = dataset.crop_start(i)
        positions.append(position)
        assert torch.equal(x, expected_crop(manifest, u, position)[: len(x)])
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
        assert torch.equal(x, expected_crop(manifest, u, 0.5)[: min(CROP, u.frames)])
        assert torch.equal(dataset[i][0], x)


def test_short_clip_is_the_whole_clip_never_padded(manifest: Manifest, tmp_path: Path) -> None:
    short = short_utterance(manifest)
    labels = speaker_to_index(manifest.utterances)
    whole = load_audio(manifest.root / short.path)
    cache = FeatureCache(manifest.root, [short], cache_dir=tmp_path, progress=False)
    for train in (True, False):
        for store in (None, cache):
            dataset = SpeakerDataset([short], labels, manifest.root, train=train, cache=store)
            torch.testing.assert_close(dataset[0][0], whole, atol=1 / 32768, rtol=0)
    assert dataset.crop_samples_of(short) == short.frames < dataset.crop_samples == CROP


@pytest.mark.parametrize(("kind", "shape"), [("mfcc", (40, 301)), ("spectrogram_pooled", (201,))])
def test_items_with_a_feature(manifest: Manifest, kind: str, shape: tuple[int, ...]) -> None:
    labels = speaker_to_index(manifest.utterances)
    feature = make_feature(kind)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root, feature=feature)
    waveforms = SpeakerDataset(manifest.utterances, labels, manifest.root)
    long_ones = [i for i, u in enumerate(manifest.utterances) if u.frames >= CROP]
    for i in long_ones[:2]:
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
            for u, (x, _) in zip(dataset.utterances, all_items(dataset)):
                assert x.shape == (min(CROP, round(u.seconds * 16_000)),)
                assert torch.isfinite(x).all()
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
    assert x.shape == (min(CROP, manifest.utterances[header_only + 1].frames),)
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
    short_frames = manifest.utterances[short_index].frames
    assert dataset.utterance_crops(short_index).shape == (1, short_frames)  # the clip, not padded
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
        for k, (x, _) in enumerate(batches):  # as long as the shortest item: nothing padded
            shortest = min(dataset[i][0].shape[-1] for i in range(8 * k, 8 * k + len(x)))
            assert x.shape == (len(x), *shape[:-1], shortest)
        x, y = batches[0]
        assert x.dtype == torch.float32
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


def test_training_batches_group_files_of_similar_length(manifest: Manifest) -> None:
    """``LengthBuckets``: every file once per epoch, batches of neighbouring lengths, seeded."""
    labels = speaker_to_index(manifest.utterances)
    dataset = SpeakerDataset(manifest.utterances, labels, manifest.root)
    loader = make_loader(dataset, batch_size=4, shuffle=True, seed=0, num_workers=0)
    batches = list(loader.batch_sampler)  # one pool of 8 batches holds all 20 files: sorted
    assert len(batches) == len(loader) == 5
    assert sorted(i for b in batches for i in b) == list(range(20))
    lengths = [sorted(dataset.crop_samples_of(manifest.utterances[i]) for i in b) for b in batches]
    lengths.sort()
    assert all(a[-1] <= b[0] for a, b in itertools.pairwise(lengths))  # no overlap: sorted
    assert batches != list(loader.batch_sampler)  # a new order every epoch
    again = make_loader(dataset, batch_size=4, shuffle=True, seed=0, num_workers=0)
    assert list(again.batch_sampler) == batches
    dropped = make_loader(dataset, batch_size=8, shuffle=True, seed=0, drop_last=True)
    assert [len(b) for b in dropped.batch_sampler] == [8, 8] == [8] * len(dropped)
