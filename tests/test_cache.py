"""helpers.cache: the memory-mapped FeatureCache against decoded crops; reuse, failure, pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import (
    CROP,
    all_items,
    expected_crop,
    frame_aligned_position,
    long_utterances,
    short_utterance,
    tone,
)

import helpers.cache as cache_module
from helpers.audio import fit_length, load_audio
from helpers.cache import FeatureCache
from helpers.corpus import (
    Manifest,
    load_manifest,
    speaker_to_index,
)
from helpers.dataset import SpeakerDataset
from helpers.features import make_feature

pytestmark = pytest.mark.usefixtures("one_thread")


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
    whole = cached.whole_utterance(index)  # every sample of the file, none padded
    assert whole.shape == (manifest.utterances[index].frames,)
    assert torch.equal(whole, decoded.whole_utterance(index))


def test_waveform_cache_quantises_other_sources_to_int16(tmp_path: Path, write_audio) -> None:
    original = tone(1.0, 16_000) * 0.8
    write_audio(tmp_path / "1" / "a.wav", original, format="WAV", subtype="FLOAT")
    manifest = load_manifest(tmp_path, progress=False)
    cache = FeatureCache(tmp_path, manifest.utterances, progress=False)
    assert cache.path.parent == tmp_path / ".cache"  # next to the data by default
    crop = cache.crop(manifest.utterances[0], 0.0, 3.0)
    assert crop.shape == (CROP,) and crop[16_000:].abs().sum() == 0
    assert (crop[:16_000] - torch.from_numpy(original)).abs().max() <= 0.5 / 32768 + 1e-7


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
    labels = speaker_to_index(utterances)
    cached = SpeakerDataset(utterances, labels, manifest.root, raw, cache=cache)
    decoded = SpeakerDataset(utterances, labels, manifest.root, raw)
    whole = cached.whole_utterance(0)  # all the file's frames
    assert (
        whole.shape
        == decoded.whole_utterance(0).shape
        == (raw.n_bins, raw.frames(utterances[0].frames))
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
    torch.testing.assert_close(through_wave_cache.whole_utterance(3), decoded.whole_utterance(3))
    with pytest.raises(ValueError, match="sample rate"):
        SpeakerDataset(
            manifest.utterances, labels, manifest.root, cache=wave_cache, sample_rate=8_000
        )
