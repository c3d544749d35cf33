"""helpers.models: shapes for every model × feature kind, any clip length, embeddings, options."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.features import make_feature, normalize_over_time
from helpers.models import (
    AAMSoftmax,
    CNN1d,
    CNN2d,
    DenseClassifier,
    SpecAugment,
    StatsPool,
    check_compatible,
    count_parameters,
    logits_for_loss,
    make_model,
)

N_CLASSES = 5
PAIRS = [
    ("dense", "mfcc_pooled"),
    ("dense", "spectrogram_pooled"),
    ("cnn1d", "mfcc"),
    ("cnn1d", "spectrogram"),
    ("cnn2d", "mfcc"),
    ("cnn2d", "spectrogram"),
]


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Small forward passes gain nothing from threads, and one thread is immune to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _waveforms(batch: int = 3, seconds: float = 1.0, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, int(16_000 * seconds), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name, kind", PAIRS)
def test_every_model_on_its_feature_kinds(name: str, kind: str) -> None:
    feature = make_feature(kind)
    x = feature(_waveforms(batch=3))
    model = make_model(name, feature.n_bins, N_CLASSES).eval()
    with torch.no_grad():
        logits, embedding = model(x), model.embed(x)
    assert logits.shape == (3, N_CLASSES)
    assert embedding.shape == (3, model.embedding_dim)
    assert torch.isfinite(logits).all()
    # embed is the input of the last Linear: the classifier applied to it gives the logits
    assert torch.allclose(model.classifier(embedding), logits, atol=1e-5)
    # the back-end's input: the embedding, then the pooled vector the embedding layer reads
    with torch.no_grad():
        features, pooled = model.backend_features(x), model.pooled(x)
    assert pooled.shape == (3, model.embedding[0].in_features)
    assert features.shape == (3, model.embedding_dim + pooled.shape[1])
    assert torch.allclose(features[:, : model.embedding_dim], embedding, atol=1e-5)
    assert torch.allclose(features[:, model.embedding_dim :], pooled)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("dense", "mfcc"),
        ("dense", "spectrogram"),
        ("cnn1d", "mfcc_pooled"),
        ("cnn2d", "spectrogram_pooled"),
    ],
)
def test_incompatible_pairs_raise(name: str, kind: str) -> None:
    with pytest.raises(ValueError, match=r"pooled|time axis"):
        check_compatible(name, kind)
    feature = make_feature(kind)
    model = make_model(name, feature.n_bins, N_CLASSES).eval()
    with pytest.raises(RuntimeError):  # and the forward pass would fail, not silently misbehave
        model(feature(_waveforms(batch=2)))


def test_unknown_model_raises() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        make_model("transformer", 40, N_CLASSES)
    with pytest.raises(ValueError, match="unknown model"):
        check_compatible("transformer", "mfcc")


@pytest.mark.parametrize(
    "name, options", [("cnn1d", {}), ("cnn1d", {"utterance_stats": True}), ("cnn2d", {})]
)
def test_any_clip_length_and_batch_independence(name: str, options: dict) -> None:
    model = make_model(name, 40, N_CLASSES, **options).eval()
    with torch.no_grad():
        for frames in (17, 151, 301, 1001):
            x = torch.randn(4, 40, frames)
            logits = model(x)
            assert logits.shape == (4, N_CLASSES)
            assert model.embed(x).shape == (4, model.embedding_dim)
            # in eval mode a clip's scores do not depend on the rest of its batch
            assert torch.allclose(model(x[:1]), logits[:1], atol=1e-4)


@pytest.mark.parametrize(
    "model",
    [
        DenseClassifier(40, N_CLASSES, embedding_dim=24),
        CNN1d(40, N_CLASSES, channels=16, embedding_dim=24),
        CNN2d(40, N_CLASSES, channels=(4, 8), embedding_dim=24),
    ],
)
def test_embedding_dim_is_respected(model: nn.Module) -> None:
    x = torch.randn(2, 40) if isinstance(model, DenseClassifier) else torch.randn(2, 40, 50)
    assert model.eval().embed(x).shape == (2, 24)
    assert model.embedding_dim == 24


def test_count_parameters_matches_the_formula() -> None:
    f, h, e, c = 40, 32, 16, N_CLASSES
    model = DenseClassifier(f, c, hidden=h, embedding_dim=e)
    batchnorm = 2  # a scale and a shift per feature; running statistics are buffers, not counted
    expected = (
        batchnorm * f  # input BatchNorm
        + (f * h + h) + batchnorm * h  # hidden layer
        + 2 * ((h * h + h) + batchnorm * h)  # residual block
        + (h * e + e) + batchnorm * e  # embedding layer
        + (e * c + c)  # classifier
    )  # fmt: skip
    assert count_parameters(model) == expected
    model.classifier.weight.requires_grad_(False)  # frozen parameters are not trainable
    assert count_parameters(model) == expected - e * c


def test_make_model_seed_fixes_weights_without_touching_the_global_rng() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = make_model("cnn1d", 40, N_CLASSES, seed=7)
    assert torch.equal(torch.rand(1), before)  # global generator untouched by make_model
    b = make_model("cnn1d", 40, N_CLASSES, seed=7)
    c = make_model("cnn1d", 40, N_CLASSES, seed=8)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name
    assert not all(torch.equal(p, r) for p, r in zip(a.parameters(), c.parameters()))


@pytest.mark.parametrize(
    "name, n_features, options",
    [
        ("dense", 40, {"hidden": 32}),
        ("cnn1d", 40, {"channels": 16}),
        ("cnn2d", 40, {"channels": (4, 8)}),
    ],
)
def test_residual_option_changes_the_computation(name: str, n_features: int, options) -> None:
    with_skip = make_model(name, n_features, N_CLASSES, residual=True, **options).eval()
    without = make_model(name, n_features, N_CLASSES, residual=False, **options).eval()
    # The same weights (the 2-D skip convolutions only exist with residual=True) ...
    missing, unexpected = without.load_state_dict(with_skip.state_dict(), strict=False)
    assert not missing
    assert all(".skip." in key for key in unexpected)
    # ... give other outputs: the skip connection really is added.
    x = torch.randn(3, n_features) if name == "dense" else torch.randn(3, n_features, 64)
    with torch.no_grad():
        assert not torch.allclose(with_skip(x), without(x), atol=1e-4)


@pytest.mark.parametrize("aggregate", [False, True])
def test_cnn1d_aggregate_pools_every_block_or_the_last(aggregate: bool) -> None:
    """aggregate=True feeds the concatenated outputs of all blocks to the pooling (ECAPA's MFA)."""
    model = make_model("cnn1d", 20, N_CLASSES, channels=8, n_blocks=3, aggregate=aggregate).eval()
    seen: dict[str, list[torch.Tensor]] = {"blocks": [], "expand": []}
    for block in model.blocks:
        block.register_forward_hook(lambda m, i, out: seen["blocks"].append(out))
    model.expand.register_forward_pre_hook(lambda m, i: seen["expand"].append(i[0]))
    with torch.no_grad():
        model(torch.randn(2, 20, 50))
    expected = torch.cat(seen["blocks"], dim=1) if aggregate else seen["blocks"][-1]
    assert torch.equal(seen["expand"][0], expected)
    assert model.config["aggregate"] is aggregate
    options = {k: v for k, v in model.config.items() if k not in ("n_features", "n_classes")}
    rebuilt = make_model("cnn1d", 20, N_CLASSES, **options)  # as a checkpoint rebuilds it
    assert rebuilt.expand[0].in_channels == (3 if aggregate else 1) * 8


@pytest.mark.parametrize("name, pooled", [("dense", True), ("cnn1d", False), ("cnn2d", False)])
def test_a_training_step_lowers_the_loss(name: str, pooled: bool) -> None:
    options = {} if name == "dense" else {"augment": False}
    model = make_model(name, 40, N_CLASSES, seed=0, dropout=0.0, **options).train()
    generator = torch.Generator().manual_seed(0)
    shape = (16, 40) if pooled else (16, 40, 80)
    x = torch.randn(shape, generator=generator)
    y = torch.randint(0, N_CLASSES, (16,), generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    before = loss_fn(model(x), y)
    optimizer.zero_grad()
    before.backward()
    assert all(p.grad is not None for p in model.parameters())  # every layer is used
    optimizer.step()
    with torch.no_grad():
        after = loss_fn(model(x), y)
    assert after.item() < before.item() - 1e-3


def test_stats_pool_is_mean_then_std_over_time() -> None:
    x = torch.randn(2, 3, 50)
    pooled = StatsPool()(x)
    assert pooled.shape == (2, 6)
    assert torch.allclose(pooled[:, :3], x.mean(-1), atol=1e-6)
    assert torch.allclose(pooled[:, 3:], x.std(-1, unbiased=False), atol=1e-4)


def test_specaugment_masks_in_training_only() -> None:
    augment = SpecAugment(max_bins=8, max_frames=20, n_masks=2)
    x = torch.randn(64, 40, 200) + 10  # no natural zeros
    assert torch.equal(augment.eval()(x), x)
    torch.manual_seed(0)
    masked = augment.train()(x) == 0
    assert masked.any()
    # masks are whole bands and spans: a masked bin is masked in every frame of that clip, or a
    # masked frame in every bin
    bins = masked.all(dim=2)
    frames = masked.all(dim=1)
    assert torch.equal(masked, bins[:, :, None] | frames[:, None, :])
    assert bins.sum(1).max() <= 16 and frames.sum(1).max() <= 40  # 2 masks of at most 8 / 20
    assert bins.any(1).float().mean() > 0.5  # most clips get a frequency mask


# --------------------------------------------------------------------------------------------------
# The additive angular margin head


def test_aam_logits_are_scaled_cosines_to_the_speaker_centres() -> None:
    head = AAMSoftmax(4, 3, margin=0.2, scale=30.0)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[2.0, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0]]))
    embeddings = torch.tensor([[3.0, 0, 0, 0], [0, -0.5, 0, 0]])
    expected = 30 * torch.tensor([[1.0, 0.0, 2**-0.5], [0.0, -1.0, -(2**-0.5)]])
    assert torch.allclose(head(embeddings), expected, atol=1e-5)
    assert torch.allclose(head(7 * embeddings), head(embeddings))  # the length does not count


def test_aam_margin_moves_only_the_true_class_by_the_angle() -> None:
    head = AAMSoftmax(2, 3, margin=0.2, scale=10.0)
    logits = 10 * torch.tensor([[0.5, 0.1, -0.3], [0.2, 0.9, 0.0]])
    labels = torch.tensor([0, 1])
    out = head.margin_logits(logits, labels)
    # Hand-computed: cos(acos(0.5) + 0.2) = cos(1.2472) = 0.3180; cos(acos(0.9) + 0.2) = cos(0.6510) = 0.7955.
    expected = 10 * torch.tensor([[0.3180, 0.1, -0.3], [0.2, 0.7955, 0.0]])
    assert torch.allclose(out, expected, atol=1e-3)


def test_aam_margin_keeps_the_target_logit_falling_past_pi() -> None:
    head = AAMSoftmax(2, 2, margin=0.2, scale=1.0)
    cosines = torch.linspace(-0.999, 0.999, 201)
    logits = torch.stack([cosines, torch.zeros_like(cosines)], 1)
    target = head.margin_logits(logits, torch.zeros(201, dtype=torch.long))[:, 0]
    assert torch.all(target < cosines)  # always a penalty
    assert torch.all(target.diff() > 0)  # and monotonic: a farther clip always scores lower
    assert torch.allclose(
        head.margin_logits(logits, torch.ones(201, dtype=torch.long))[:, 0], cosines
    )


def test_logits_for_loss_adds_the_margin_for_aam_models_only() -> None:
    labels = torch.tensor([0, 2])
    plain = make_model("cnn1d", 20, N_CLASSES, seed=0)
    logits = torch.randn(2, N_CLASSES)
    assert logits_for_loss(plain, logits, labels) is logits
    aam = make_model("cnn1d", 20, N_CLASSES, seed=0, head="aam", margin=0.3, scale=20.0)
    assert isinstance(aam.classifier, AAMSoftmax) and aam.classifier.margin == 0.3
    cosine_logits = aam.classifier(torch.randn(2, aam.embedding_dim))
    with_margin = logits_for_loss(aam, cosine_logits, labels)
    changed = with_margin != cosine_logits
    assert torch.equal(changed, torch.nn.functional.one_hot(labels, N_CLASSES).bool())
    loss = nn.functional.cross_entropy
    assert loss(with_margin, labels) > loss(cosine_logits, labels)


def test_aam_model_trains_rebuilds_from_its_config_and_embeds_the_same() -> None:
    model = make_model("cnn1d", 20, N_CLASSES, seed=0, head="aam", augment=False, dropout=0.0)
    assert model.config["head"] == "aam" and model.config["scale"] == 30.0
    x = torch.randn(8, 20, 60, generator=torch.Generator().manual_seed(1))
    y = torch.arange(8) % N_CLASSES
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    before = nn.functional.cross_entropy(logits_for_loss(model, model(x), y), y)
    before.backward()
    assert model.classifier.weight.grad is not None
    optimizer.step()
    with torch.no_grad():
        after = nn.functional.cross_entropy(logits_for_loss(model, model(x), y), y)
    assert after < before
    options = {k: v for k, v in model.config.items() if k not in ("n_features", "n_classes")}
    rebuilt = make_model("cnn1d", 20, N_CLASSES, seed=None, **options)
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    with torch.no_grad():
        assert torch.equal(rebuilt(x), model(x)) and torch.equal(rebuilt.embed(x), model.embed(x))
        assert model(x).abs().max() <= 30.0 + 1e-4  # scaled cosines


def test_aam_bad_options() -> None:
    with pytest.raises(ValueError, match="unknown head"):
        make_model("cnn1d", 20, N_CLASSES, head="arcface")
    with pytest.raises(ValueError, match="margin"):
        AAMSoftmax(8, 3, margin=2.0)


@pytest.mark.parametrize("utterance_stats", [True, False])
def test_utterance_stats_tell_apart_what_normalising_each_clip_removes(
    utterance_stats: bool,
) -> None:
    """Two "speakers" that differ only by a constant spectral tilt (the cue of the baseline): the
    normalised clip has lost it, so only a model that keeps each clip's statistics learns them."""
    generator = torch.Generator().manual_seed(0)
    y = torch.arange(32) % 2
    tilt = torch.where(torch.arange(8) < 4, 1.0, -1.0)[None, :, None]  # (1, bins, 1)
    x = torch.randn(32, 8, 40, generator=generator) + tilt * (2 * y - 1)[:, None, None]
    if not utterance_stats:  # the features as make_feature normalises them
        x = normalize_over_time(x)
    model = make_model("cnn1d", 8, 2, seed=0, channels=16, utterance_stats=utterance_stats)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(40):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    fresh = torch.randn(32, 8, 40, generator=generator) + tilt * (2 * y - 1)[:, None, None]
    if not utterance_stats:
        fresh = normalize_over_time(fresh)
    with torch.no_grad():
        accuracy = (model.eval()(fresh).argmax(1) == y).float().mean().item()
    assert accuracy == 1.0 if utterance_stats else accuracy < 0.8, accuracy
    if utterance_stats:  # its trunk sees the normalised clip: gain and offset change the statistics
        with torch.no_grad():
            assert not torch.allclose(model.embed(x), model.embed(3 * x + 2), atol=1e-3)
            model.embedding[0].weight[:, -16:] = 0  # the statistics' weights into the embedding
            assert torch.allclose(model.embed(x), model.embed(3 * x + 2), atol=1e-4)
