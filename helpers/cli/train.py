"""Train a speaker classifier from the command line, with the kit's recommended defaults.

::

    python -m helpers.cli.train --data train-dataset                  # the recommended model
    python -m helpers.cli.train --data train-dataset --max-minutes 15 # fit a time-limited session
    python -m helpers.cli.train --data DIR --model dense --feature mfcc_pooled --epochs 20 --json
    python -m helpers.cli.train --data DIR --model baseline            # the model to beat

Defaults: ``helpers.course.RECOMMENDED`` (docs/model.md). ``--model baseline`` is
``training.fit_baseline`` (its checkpoint the pickled pipeline). ``--split-by chapter`` validates on
unseen sessions; ``--holdout-speakers N``: EER and minDCF (p_target 0.01) on N unseen speakers.
Progress on stderr, a table on stdout (``--json``: a JSON last line), and in ``--out`` ``best.pt``,
``backend.pkl`` (the LDA back-end, ``--backend lda``), ``history.json`` and ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

# OpenMP threads that spin while waiting collapse when another process shares the cores (measured
# here: 4x slower training with 2 threads on 2 busy cores); passive waiting costs little otherwise.
# It must be set before torch loads OpenMP; an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..audio import SAMPLE_RATE
from ..augment import AUGMENTATIONS, make_augment
from ..cache import FeatureCache
from ..checkpoints import load_checkpoint
from ..corpus import (
    Utterance,
    describe_split,
    holdout_speakers,
    load_manifest,
    speaker_to_index,
    split_utterances,
)
from ..course import RECOMMENDED, features_on_device, find_dataset, get_device, seed_everything
from ..dataset import SpeakerDataset, make_loader
from ..embeddings import extract_embeddings, fit_lda_backend
from ..features import FEATURE_KINDS, AudioFeature, make_feature
from ..metrics import classification_metrics, equal_error_rate, min_dcf, verification_trials
from ..models import HEADS, MODELS, check_compatible, count_parameters, make_model
from ..training import History, evaluate, fit, fit_baseline, mfcc_statistics

R = RECOMMENDED
OPTIONS = [  # flag, type, default, help (store_true switches have type None)
    ("--data", Path, None, "corpus folder (default: helpers.course.find_dataset())"),
    ("--n-mfcc", int, R["n_mfcc"], "MFCCs kept (mfcc kinds only)"),
    ("--f-max", float, None, "top of the mel bands, Hz (default: half the lowest sample rate)"),
    ("--epochs", int, R["epochs"], "most epochs"),
    ("--max-minutes", float, None, "time budget: the schedule shrinks to fit it"),
    ("--patience", int, None, "stop after this many epochs without improvement"),
    ("--batch-size", int, R["batch_size"], None),
    ("--lr", float, R["lr"], "peak learning rate"),
    ("--label-smoothing", float, R["label_smoothing"], None),
    ("--crop-seconds", float, R["crop_seconds"], None),
    ("--val-fraction", float, 0.3, None),
    ("--augment", str, R["augment"], "waveform augmentation of the training batches: "
     f"comma-separated names of {', '.join(AUGMENTATIONS)}, or none (default: %(default)s)"),
    ("--augment-p", float, R["augment_p"], "probability that each augmentation changes a clip"),
    ("--margin", float, R["margin"], "AAM margin (radians)"),
    ("--scale", float, R["scale"], "AAM scale"),
    ("--holdout-speakers", int, 0, "keep this many speakers out of training and report "
     "verification (EER, minDCF) on them"),
    ("--seed", int, 0, None),
    ("--workers", int, None, "DataLoader workers (default: 0 on a CPU, 2 on a GPU)"),
    ("--out", Path, None, "output folder (default: runs/MODEL-FEATURE-seedS)"),
    ("--device", str, None, "cpu or cuda (default: cuda if available)"),
    ("--no-residual", None, False, "no skip connections"),
    ("--aggregate", None, False, "cnn1d: pool the outputs of all blocks (ECAPA)"),
    ("--spec-augment", None, False, "SpecAugment masks on the training features (CNNs)"),
    ("--cache", None, False, "memory-map the features (CPU) or waveforms (GPU) in DATA/.cache"),
    ("--json", None, False, "print the results as JSON on the last line"),
    ("--quiet", None, False, "no progress bars"),
]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The command line's options (``OPTIONS``, the choices, defaults ``RECOMMENDED``)."""
    p = argparse.ArgumentParser(
        prog="python -m helpers.cli.train",
        description="Train a speaker classifier (defaults: the kit's recommended model).",
    )
    p.add_argument("--model", choices=[*MODELS, "baseline"], default=R["model"])
    p.add_argument("--feature", choices=FEATURE_KINDS, default=R["feature"])
    p.add_argument("--split-by", choices=["file", "chapter"], default="file")
    p.add_argument("--head", choices=HEADS, default=R["head"], help="classifier head")
    p.add_argument("--backend", choices=["lda", "softmax"], default=R["backend"], help="networks: who "
                   "names a file's speaker: LDA of embeddings or the classifier")  # fmt: skip
    p.add_argument("--utterance-stats", action=argparse.BooleanOptionalAction,
                   default=R["utterance_stats"], help="cnn1d: unnormalised features in; each clip's "
                   "mean and std per bin beside the pooled statistics (default: %(default)s)")  # fmt: skip
    for flag, kind, default, what in OPTIONS:
        if kind is None:
            p.add_argument(flag, action="store_true", help=what)
        else:
            p.add_argument(flag, type=kind, default=default, help=what)
    return p


@dataclass
class RunData:
    """What a run trains and tests on: the splits, their datasets, and the feature pipeline."""

    root: Path
    summary: str
    labels: dict[str, int]
    train: list[Utterance]
    val: list[Utterance]
    unseen: list[Utterance]
    feature: AudioFeature
    batch_transform: AudioFeature | None
    datasets: dict[str, SpeakerDataset]
    workers: int


def prepare_data(args: argparse.Namespace, device: torch.device) -> RunData:
    """Manifest, held-out speakers, the seeded split, one ``SpeakerDataset`` per part; features
    per batch on the device (``batch_transform``) on a GPU or with waveform augmentation."""
    root = args.data if args.data is not None else find_dataset()
    manifest = load_manifest(root, progress=not args.quiet)
    speakers = sorted({u.speaker for u in manifest.utterances})
    if not 0 <= args.holdout_speakers <= len(speakers) - 2:
        raise SystemExit(
            f"--holdout-speakers {args.holdout_speakers}: {root} has {len(speakers)} speakers; "
            "hold out at most all but 2 of them"
        )
    seen, unseen_speakers = holdout_speakers(speakers, args.holdout_speakers, args.seed)
    seen_utts = [u for u in manifest.utterances if u.speaker in set(seen)]
    unseen = [u for u in manifest.utterances if u.speaker in set(unseen_speakers)]
    labels = speaker_to_index(seen_utts)
    train, val = split_utterances(
        seen_utts, val_fraction=args.val_fraction, seed=args.seed, by=args.split_by
    )
    if not val:
        raise SystemExit("no validation files: every speaker needs at least 2 files")
    options = {}
    if args.feature.startswith("mfcc"):  # mel bands only as high as every file has sound
        f_max = args.f_max or min(u.sample_rate for u in manifest.utterances) / 2
        options = {"n_mfcc": args.n_mfcc} | ({"f_max": f_max} if f_max < SAMPLE_RATE / 2 else {})
    options |= {"normalize": False} if _utterance_stats(args) else {}  # the model normalises
    feature = make_feature(args.feature, **options)
    # The GPU path (2 loader workers) on CUDA, or on a CPU if AUDIO_COURSE_FEATURES_ON_DEVICE=1
    gpu_path = features_on_device(device)
    on_device = gpu_path or _augmentations(args) != "none"
    item_feature, batch_transform = (None, feature) if on_device else (feature, None)
    cache = None
    if args.cache:
        cache = FeatureCache(
            root, manifest.utterances, feature=item_feature, progress=not args.quiet
        )
    parts = {"train": train, "val": val, "unseen": unseen}
    datasets = {
        name: SpeakerDataset(
            part, labels if name != "unseen" else speaker_to_index(part), root, item_feature,
            args.crop_seconds, train=name == "train", seed=args.seed, cache=cache,
        )
        for name, part in parts.items()
    }  # fmt: skip
    workers = args.workers if args.workers is not None else (2 if gpu_path else 0)
    return RunData(
        root, manifest.summary(), labels, train, val, unseen, feature, batch_transform, datasets,
        workers,
    )  # fmt: skip


def _utterance_stats(args: argparse.Namespace) -> bool:
    """Whether the model keeps each clip's statistics (``--utterance-stats``, cnn1d only)."""
    return args.utterance_stats and args.model == "cnn1d"


def _augmentations(args: argparse.Namespace) -> str:
    """The ``--augment`` list, normalised: ``"none"`` when empty."""
    names = [n.strip() for n in args.augment.split(",") if n.strip() and n.strip() != "none"]
    return ",".join(names) or "none"


def build_model(args: argparse.Namespace, data: RunData) -> nn.Module:
    """The model the options describe, for ``data``'s features and seen speakers."""
    options: dict = {"head": args.head, "margin": args.margin, "scale": args.scale}  # aam only
    # Only the switches given: a model without these options is accepted when they are not.
    options |= {"aggregate": True} if args.aggregate else {}
    options |= {"augment": True} if args.spec_augment else {}
    options |= {"utterance_stats": True} if _utterance_stats(args) else {}
    options |= {"residual": False} if args.no_residual else {}
    return make_model(args.model, data.feature.n_bins, len(data.labels), seed=args.seed, **options)


def train(
    args: argparse.Namespace, data: RunData, model: nn.Module, device: torch.device, out: Path
) -> History:
    """``fit`` with the options' loaders, augmentation and budget; returns the ``History``."""
    # A tiny corpus still gets a few steps per epoch (BatchNorm's running statistics need them).
    batch_size = min(args.batch_size, max(8, len(data.train) // 4), len(data.train))
    train_loader = make_loader(
        data.datasets["train"], batch_size, shuffle=True, seed=args.seed,
        num_workers=data.workers, drop_last=True,
    )  # fmt: skip
    val_loader = make_loader(data.datasets["val"], 2 * batch_size, num_workers=data.workers)
    augment = make_augment(_augmentations(args), p=args.augment_p, seed=args.seed)
    plain = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}  # for JSON
    metadata = {"feature": data.feature, "speaker_to_index": data.labels, "args": plain}
    return fit(
        model, train_loader, val_loader, epochs=args.epochs, lr=args.lr,
        label_smoothing=args.label_smoothing, batch_transform=data.batch_transform,
        augment=augment if _augmentations(args) != "none" else None, device=device,
        checkpoint=out / "best.pt", metadata=metadata, seed=args.seed,
        patience=args.patience, max_minutes=args.max_minutes, progress=not args.quiet,
    )  # fmt: skip


def embeddings_of(model: nn.Module, data: RunData, part: str, device: torch.device) -> tuple:
    """Whole-file ``backend_features`` ``(N, D)`` (the embedding first), labels ``(N,)`` of ``part``."""
    dataset, workers = data.datasets[part], data.workers
    return extract_embeddings(
        model, dataset, data.batch_transform, device, num_workers=workers, layer="backend_features"
    )


def verify(model: nn.Module | None, data: RunData, device, baseline=None, backend=None) -> dict:
    """EER, minDCF (p_target 0.01) of cosines of all pairs of held-out files (``{}`` if none) of
    ``model``'s embeddings, via ``backend`` if any (plain: ``cosine_eer``), or ``baseline``'s."""
    if not data.unseen:
        return {}
    if baseline is not None:
        unseen, n_mfcc = data.datasets["unseen"], baseline[0].n_features_in_ // 2
        embeddings = baseline[0].transform(mfcc_statistics(unseen, n_mfcc))
        speakers = np.asarray(unseen.labels())
    else:
        features, speakers = embeddings_of(model, data, "unseen", device)
        embeddings = features[:, : model.embedding_dim]
    more = {}
    if backend is not None:
        more["cosine_eer"] = equal_error_rate(*verification_trials(embeddings, speakers, None))[0]
        embeddings = backend.transform(features)
    scores, same = verification_trials(embeddings, speakers, max_trials=None)
    eer, threshold = equal_error_rate(scores, same)
    cost, _ = min_dcf(scores, same, p_target=0.01)
    return {
        "holdout_speakers": len(set(speakers.tolist())), "holdout_files": len(data.unseen),
        "trials": len(scores), "target_trials": int(same.sum()),
        "eer": eer, "eer_threshold": threshold, "min_dcf": cost, **more,
    }  # fmt: skip


def run(args: argparse.Namespace) -> dict:
    """Train and evaluate as ``args`` say; return the results (the ``--json`` object)."""
    start = time.perf_counter()
    seed_everything(args.seed)
    baseline = args.model == "baseline"
    device = torch.device("cpu" if baseline else args.device or get_device())
    out = args.out or Path("runs") / f"{args.model}-{args.feature}-seed{args.seed}"
    data = prepare_data(args, device)
    if baseline:
        result = fit_baseline(data.datasets["train"], data.datasets["val"], args.n_mfcc, args.seed)
        out.mkdir(parents=True, exist_ok=True)
        (out / "baseline.pkl").write_bytes(pickle.dumps(result["pipeline"]))
        history = History(seconds=[result["seconds"]], stopped="converged")
        run_info = {"feature": result["feature"], "augment": "none", "head": "logistic"}
        run_info.update(parameters=result["parameters"], checkpoint=str(out / "baseline.pkl"))
        verification = verify(None, data, device, baseline=result["pipeline"])
    else:
        model = build_model(args, data)
        _print_setup(args, data, model, device)
        history = train(args, data, model, device, out)
        best = load_checkpoint(out / "best.pt", device=device)
        result = evaluate(
            best, data.datasets["val"], batch_transform=data.batch_transform, device=device,
            num_workers=data.workers, progress=not args.quiet,
        )  # fmt: skip
        run_info = {"feature": args.feature, "augment": _augmentations(args), "head": args.head,
                    "backend": args.backend}  # fmt: skip
        run_info.update(parameters=count_parameters(model), checkpoint=str(out / "best.pt"))
        backend = None
        if args.backend == "lda":  # the LDA back-end names the files; the classifier's kept
            backend = fit_lda_backend(*embeddings_of(best, data, "train", device))
            (out / "backend.pkl").write_bytes(pickle.dumps(backend))
            run_info.update(softmax_utterance_accuracy=result["utterance_accuracy"])
            val = embeddings_of(best, data, "val", device)[0]
            result["utterance_y_pred"] = predicted = backend.predict(val)
            result["utterance_accuracy"] = float(np.mean(predicted == result["y_true"]))
        verification = verify(best, data, device, backend=backend)
    names = sorted(data.labels, key=data.labels.get)
    crop_metrics = classification_metrics(result["y_true"], result["y_pred"], names)
    utt_metrics = classification_metrics(result["y_true"], result["utterance_y_pred"], names)
    summary = {
        "model": args.model, **run_info, "val_accuracy": result["accuracy"],
        "val_utterance_accuracy": result["utterance_accuracy"],
        "macro_f1": utt_metrics["macro_f1"], "crop_macro_f1": crop_metrics["macro_f1"],
        "n_speakers": len(data.labels), "n_train": len(data.train), "n_val": len(data.val),
        "epochs": len(history.epoch) if not baseline else result["epochs"],
        "best_epoch": history.best_epoch, "stopped": history.stopped, "device": str(device),
        "features_on_device": data.batch_transform is not None and not baseline, "seed": args.seed,
        "train_seconds": round(history.seconds[-1] if history.seconds else 0.0, 1),
        **verification, "seconds": round(time.perf_counter() - start, 1),
    }  # fmt: skip
    (out / "history.json").write_text(json.dumps(history.as_dict(), indent=1))
    metrics = {**summary, "crop": crop_metrics, "utterance": utt_metrics}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    _print_results(summary, crop_metrics, utt_metrics, args.crop_seconds)
    return summary


def _print_setup(args: argparse.Namespace, data: RunData, model: nn.Module, device) -> None:
    split = describe_split(data.train, data.val)
    print(f"corpus      {data.root}: {data.summary}")
    if data.unseen:
        n_unseen = len({u.speaker for u in data.unseen})
        print(f"held out    {n_unseen} speakers ({len(data.unseen)} files) for verification")
    where = f"per batch on {device} (waveform items)" if data.batch_transform else "per item"
    print(
        f"split       by {args.split_by}: {split['train_files']} training files "
        f"({split['train_hours']} h), {split['val_files']} validation files "
        f"({split['val_hours']} h)\nmodel       {args.model} on {args.feature} "
        f"{data.feature.extra_repr()}\n"
        f"            head {args.head}, waveform augmentation: {_augmentations(args)}, "
        f"files named by {'the LDA back-end' if args.backend == 'lda' else 'the classifier'}\n"
        f"            {count_parameters(model):,} parameters, device {device}, "
        f"{data.workers} loader workers\nfeatures    {where}"
    )


def _print_results(summary: dict, crop: dict, utterance: dict, crop_seconds: float) -> None:
    crop_name = "whole file" if summary["model"] == "baseline" else f"crop ({crop_seconds:g} s)"
    table = pd.DataFrame(
        {crop_name: [summary["val_accuracy"], crop["macro_f1"], crop["weighted_f1"]],
         "utterance": [summary["val_utterance_accuracy"], utterance["macro_f1"],
                       utterance["weighted_f1"]]},
        index=["accuracy", "macro F1", "weighted F1"],
    )  # fmt: skip
    table.index.name = "validation"
    print("\n" + table.to_string(float_format="{:.4f}".format))
    if "eer" in summary:
        print(
            f"verification: {summary['holdout_speakers']} held-out speakers, "
            f"{summary['trials']:,} trials ({summary['target_trials']:,} target)\n"
            + pd.Series({"EER": summary["eer"], "minDCF (p=0.01)": summary["min_dcf"]}).to_string()
        )
    steps = "solver iterations" if summary["model"] == "baseline" else "epochs"
    best = f", best epoch {summary['best_epoch']}" if summary["best_epoch"] else ""
    print(
        f"{summary['epochs']} {steps} ({summary['stopped']}){best}, "
        f"training {summary['train_seconds']:.0f} s, total {summary['seconds']:.0f} s\n"
        f"checkpoint  {summary['checkpoint']}"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m helpers.cli.train``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.model != "baseline":
            check_compatible(args.model, args.feature)
    except ValueError as error:
        parser.error(str(error))
    wrong = [  # (a wrong option or combination, the error)
        (args.aggregate and args.model != "cnn1d",
         f"--aggregate: only cnn1d pools the outputs of its blocks, not {args.model}"),
        (args.spec_augment and args.model in ("dense", "baseline"),
         f"--spec-augment: {args.model} has no SpecAugment masks (no time axis)"),
        (args.epochs < 1 or args.batch_size < 1, "--epochs and --batch-size must be at least 1"),
        (args.max_minutes is not None and args.max_minutes <= 0, "--max-minutes must be positive"),
        (not 0 < args.val_fraction < 1, "--val-fraction must be between 0 and 1"),
        (not 0 <= args.augment_p <= 1, "--augment-p must be between 0 and 1"),
        (args.f_max is not None and args.f_max <= 0, "--f-max must be positive (Hz)"),
    ]  # fmt: skip
    for bad, message in wrong:
        if bad:
            parser.error(message)
    try:
        make_augment(args.augment)
    except ValueError as error:
        parser.error(f"--augment: {error}")
    summary = run(args)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
