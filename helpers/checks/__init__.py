"""Self-checks run after each exercise: ``checks.<name>(answer, ...)``; hints: ``checks.hint(name)``.

A check prints one line starting with ✓ when the answer is right. When it is wrong it raises
``ExerciseError`` (an ``AssertionError``) saying what is wrong and where to look — never the solution
line — and how to ask for more help: ``checks.hint("stft_db")`` prints the first hint, calling it
again the second, then the third (``checks.hint("stft_db", level=2)`` picks one); the last describes
the idea, not the code.

One module per notebook, re-exported here: ``loading_audio`` (01), ``time_and_frequency`` (02),
``dataset`` (03), ``models`` (04), ``training`` (05), ``embeddings`` (06), ``verification`` (07);
``core`` holds what they share.

Naming rule: a check is named after the *answer* it checks — what the student built, as a noun
(``stft_db``, ``crop_dataset``, ``parameter_count``, ``unseen_speakers``) — and never after a public
name of another ``helpers`` module, so that ``checks.<name>`` can never be taken for (or shadow) the
library function that does the job (``helpers.models.count_parameters`` vs ``checks.parameter_count``).
"""

from .core import ExerciseError, hint
from .dataset import (
    batch_figure,
    batch_loader,
    corpus_stats,
    crop_dataset,
    label_map,
    speaker_split,
)
from .embeddings import embedding_model, embedding_scatter, pca_projection, speaker_choice
from .loading_audio import audio_player, audio_window, duration, librosa_loading, torchaudio_loading
from .models import classifier, parameter_count, parameter_formula, statistics_pooling
from .time_and_frequency import (
    dominant_frequency,
    magnitude_spectrum,
    mel_and_mfcc,
    pool_over_time,
    stft_db,
    stft_resolution,
)
from .training import (
    ablation_runs,
    batchnorm_removed,
    macro_weighted_f1,
    model_comparison,
    precision_recall_f1,
    top_predictions,
    train_one_epoch,
    utterance_scores,
)
from .verification import cosine_matrix, eer_and_threshold, trial_pairs, unseen_speakers

__all__ = [
    "ExerciseError",
    "ablation_runs",
    "audio_player",
    "audio_window",
    "batch_figure",
    "batch_loader",
    "batchnorm_removed",
    "classifier",
    "corpus_stats",
    "cosine_matrix",
    "crop_dataset",
    "dominant_frequency",
    "duration",
    "eer_and_threshold",
    "embedding_model",
    "embedding_scatter",
    "hint",
    "label_map",
    "librosa_loading",
    "macro_weighted_f1",
    "magnitude_spectrum",
    "mel_and_mfcc",
    "model_comparison",
    "parameter_count",
    "parameter_formula",
    "pca_projection",
    "pool_over_time",
    "precision_recall_f1",
    "speaker_choice",
    "speaker_split",
    "statistics_pooling",
    "stft_db",
    "stft_resolution",
    "top_predictions",
    "torchaudio_loading",
    "train_one_epoch",
    "trial_pairs",
    "unseen_speakers",
    "utterance_scores",
]
