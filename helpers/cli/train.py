"""Train a speaker classifier from the command line, with the kit's recommended defaults.

::

    python -m helpers.cli.train --data train-dataset                  # the recommended model
    python -m helpers.cli.train --data train-dataset --max-minutes 15 # fit a time-limited session
    python -m helpers.cli.train --data DIR --model dense --feature mfcc_pooled --epochs 20 --json

The defaults — a 1-D CNN with statistics pooling (``cnn1d``) on 80 MFCCs of 3-s crops, SpecAugment,
label smoothing 0.1, AdamW with a one-cycle schedule — are the recommended model. With
``--max-minutes`` the schedule is shrunk to the epochs that fit the budget, so the learning rate still
anneals, and the best epoch is kept. On a GPU the waveforms are batched and the features computed on
the GPU; on a CPU each item's features are computed in the Dataset.

Output: progress on stderr, a summary table on stdout, and in ``--out`` the best checkpoint
(``best.pt``, see ``helpers.training.save_checkpoint``), ``history.json`` and ``metrics.json``. With
``--json`` the last line of stdout is a JSON object of the results.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

# OpenMP threads that spin while waiting collapse when another process shares the cores (measured
# here: 4x slower training with 2 threads on 2 busy cores); passive waiting costs little otherwise.
# It must be set before torch loads OpenMP; an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

from ..cache import FeatureCache
from ..checkpoints import load_checkpoint
from ..corpus import describe_split, load_manifest, speaker_to_index, split_utterances
from ..course import RECOMMENDED, find_dataset, get_device, seed_everything
from ..dataset import SpeakerDataset, make_loader
from ..features import FEATURE_KINDS, make_feature
from ..metrics import classification_metrics
from ..models import MODELS, check_compatible, count_parameters, make_model
from ..training import evaluate, fit


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(
        prog="python -m helpers.cli.train",
        description="Train a speaker classifier (defaults: the kit's recommended model).",
    )
    p.add_argument(
        "--data", type=Path, help="corpus folder (default: helpers.course.find_dataset())"
    )
    p.add_argument("--model", choices=list(MODELS), default=RECOMMENDED["model"])
    p.add_argument("--feature", choices=FEATURE_KINDS, default=RECOMMENDED["feature"])
    p.add_argument(
        "--n-mfcc", type=int, default=RECOMMENDED["n_mfcc"], help="MFCCs kept (mfcc kinds only)"
    )
    p.add_argument("--epochs", type=int, default=RECOMMENDED["epochs"], help="most epochs")
    p.add_argument(
        "--max-minutes",
        type=float,
        help="training time budget: the schedule shrinks to fit it, the best epoch is kept",
    )
    p.add_argument("--patience", type=int, help="stop after this many epochs without improvement")
    p.add_argument("--batch-size", type=int, default=RECOMMENDED["batch_size"])
    p.add_argument("--lr", type=float, default=RECOMMENDED["lr"], help="peak learning rate")
    p.add_argument("--label-smoothing", type=float, default=RECOMMENDED["label_smoothing"])
    p.add_argument("--crop-seconds", type=float, default=RECOMMENDED["crop_seconds"])
    p.add_argument("--val-fraction", type=float, default=0.3)
    p.add_argument("--split-by", choices=["file", "chapter"], default="file")
    p.add_argument("--no-residual", action="store_true", help="no skip connections")
    p.add_argument("--no-augment", action="store_true", help="no SpecAugment masks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--workers",
        type=int,
        help="DataLoader workers (default: 0 on a CPU, where training needs the cores; 2 on a GPU)",
    )
    p.add_argument(
        "--cache",
        action="store_true",
        help="memory-map the corpus' features (CPU) or waveforms (GPU) in DATA/.cache: "
        "no decoding after the first run",
    )
    p.add_argument("--out", type=Path, help="output folder (default: runs/MODEL-FEATURE-seedS)")
    p.add_argument("--device", help="cpu or cuda (default: cuda if available)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on the last line")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def run(args: argparse.Namespace) -> dict:
    """Train and evaluate as ``args`` say; return the results (the ``--json`` object)."""
    start = time.perf_counter()
    check_compatible(args.model, args.feature)
    seed_everything(args.seed)
    device = torch.device(args.device) if args.device else get_device()
    root = args.data if args.data is not None else find_dataset()
    out = args.out or Path("runs") / f"{args.model}-{args.feature}-seed{args.seed}"

    manifest = load_manifest(root, progress=not args.quiet)
    labels = speaker_to_index(manifest.utterances)
    train, val = split_utterances(
        manifest.utterances, val_fraction=args.val_fraction, seed=args.seed, by=args.split_by
    )
    if not val:
        raise SystemExit("no validation files: every speaker needs at least 2 files")
    options = {}
    if args.feature.startswith("mfcc"):
        options = {"n_mfcc": args.n_mfcc, "n_mels": max(80, args.n_mfcc)}
    feature = make_feature(args.feature, **options)
    on_gpu = device.type == "cuda"
    cache = None
    if args.cache:
        cache = FeatureCache(
            root, manifest.utterances, feature=None if on_gpu else feature, progress=not args.quiet
        )
    # CPU: features per item in the Dataset. GPU: waveforms per item, features per batch on the GPU.
    item_feature, batch_transform = (None, feature) if on_gpu else (feature, None)
    datasets = [
        SpeakerDataset(
            part, labels, root, item_feature, args.crop_seconds, train=is_train, seed=args.seed,
            cache=cache,
        )
        for part, is_train in ((train, True), (val, False))
    ]  # fmt: skip
    workers = args.workers if args.workers is not None else (2 if on_gpu else 0)
    # A tiny corpus still gets a few steps per epoch (BatchNorm's running statistics need them).
    batch_size = min(args.batch_size, max(8, len(train) // 4), len(train))
    train_loader = make_loader(
        datasets[0], batch_size, shuffle=True, seed=args.seed, num_workers=workers, drop_last=True
    )
    val_loader = make_loader(datasets[1], 2 * batch_size, num_workers=workers)

    model_options = {}
    if args.no_residual:
        model_options["residual"] = False
    if args.no_augment and args.model != "dense":
        model_options["augment"] = False
    model = make_model(args.model, feature.n_bins, len(labels), seed=args.seed, **model_options)
    parameters = count_parameters(model)
    split = describe_split(train, val)
    print(f"corpus      {root}: {manifest.summary()}")
    print(
        f"split       by {args.split_by}: {split['train_files']} training files "
        f"({split['train_hours']} h), {split['val_files']} validation files ({split['val_hours']} h)"
    )
    print(f"model       {args.model} on {args.feature} {feature.extra_repr()}")
    print(f"            {parameters:,} parameters, device {device}, {workers} loader workers")

    checkpoint = out / "best.pt"
    history = fit(
        model,
        train_loader,
        val_loader,
        epochs=args.epochs,
        lr=args.lr,
        label_smoothing=args.label_smoothing,
        batch_transform=batch_transform,
        device=device,
        checkpoint=checkpoint,
        metadata={"feature": feature, "speaker_to_index": labels, "args": _plain(vars(args))},
        patience=args.patience,
        max_minutes=args.max_minutes,
        progress=not args.quiet,
        seed=args.seed,
    )
    train_seconds = history.seconds[-1] if history.seconds else 0.0

    best = load_checkpoint(checkpoint, device=device)
    result = evaluate(
        best, datasets[1], batch_transform=batch_transform, device=device, num_workers=workers,
        progress=not args.quiet,
    )  # fmt: skip
    names = sorted(labels, key=labels.get)
    crop_metrics = classification_metrics(result["y_true"], result["y_pred"], names)
    utt_metrics = classification_metrics(result["y_true"], result["utterance_y_pred"], names)
    summary = {
        "model": args.model,
        "feature": args.feature,
        "val_accuracy": result["accuracy"],
        "val_utterance_accuracy": result["utterance_accuracy"],
        "macro_f1": utt_metrics["macro_f1"],
        "crop_macro_f1": crop_metrics["macro_f1"],
        "n_speakers": len(labels),
        "n_train": len(train),
        "n_val": len(val),
        "parameters": parameters,
        "epochs": len(history.epoch),
        "best_epoch": history.best_epoch,
        "stopped": history.stopped,
        "device": str(device),
        "seed": args.seed,
        "train_seconds": round(train_seconds, 1),
        "seconds": round(time.perf_counter() - start, 1),
        "checkpoint": str(checkpoint),
    }
    (out / "history.json").write_text(json.dumps(history.as_dict(), indent=1))
    (out / "metrics.json").write_text(
        json.dumps({**summary, "crop": crop_metrics, "utterance": utt_metrics}, indent=1)
    )
    print("")
    print(f"{'validation':<22}{'crop (3 s)':>12}{'utterance':>12}")
    print(f"{'accuracy':<22}{result['accuracy']:>12.2%}{result['utterance_accuracy']:>12.2%}")
    print(f"{'macro F1':<22}{crop_metrics['macro_f1']:>12.4f}{utt_metrics['macro_f1']:>12.4f}")
    print(
        f"{'weighted F1':<22}{crop_metrics['weighted_f1']:>12.4f}{utt_metrics['weighted_f1']:>12.4f}"
    )
    print(
        f"{len(history.epoch)} epochs ({history.stopped}), best epoch {history.best_epoch}, "
        f"training {train_seconds:.0f} s, total {summary['seconds']:.0f} s"
    )
    print(f"checkpoint  {checkpoint}")
    return summary


def _plain(values: dict) -> dict:
    """Arguments as JSON-friendly values (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m helpers.cli.train``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_compatible(args.model, args.feature)
    except ValueError as error:
        parser.error(str(error))
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be at least 1")
    if args.max_minutes is not None and args.max_minutes <= 0:
        parser.error("--max-minutes must be positive")
    if not 0 < args.val_fraction < 1:
        parser.error("--val-fraction must be between 0 and 1")
    summary = run(args)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
