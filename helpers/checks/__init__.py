"""Self-checks run after each exercise: ``checks.<name>(answer, ...)``; hints: ``checks.hint(name)``.

A check prints one line starting with ✓ when the answer is right. When it is wrong it raises
``ExerciseError`` (an ``AssertionError``) saying what is wrong and where to look — never the solution
line — and how to ask for more help: ``checks.hint("stft_db")`` prints the first hint, calling it
again the second, then the third (``checks.hint("stft_db", level=2)`` picks one); the last describes
the idea, not the code.

One module per notebook, re-exported here: ``loading_audio`` (01), ``time_and_frequency`` (02),
``dataset`` (03), ``models`` (04), ``training`` (05), ``embeddings`` (06), ``verification`` (07);
``core`` holds the engine they share (``docs/checks.md`` shows how to write a check).

Naming rule: a check is named after the *answer* it checks — what the student built, as a noun
(``stft_db``, ``crop_dataset``, ``parameter_count``, ``unseen_speakers``) — and never after a public
name of another ``helpers`` module, so that ``checks.<name>`` can never be taken for (or shadow) the
library function that does the job (``helpers.models.count_parameters`` vs ``checks.parameter_count``).
"""

from . import dataset, embeddings, loading_audio, models, time_and_frequency, training, verification
from .core import ExerciseError, hint
from .dataset import *  # noqa: F403
from .embeddings import *  # noqa: F403
from .loading_audio import *  # noqa: F403
from .models import *  # noqa: F403
from .time_and_frequency import *  # noqa: F403
from .training import *  # noqa: F403
from .verification import *  # noqa: F403

__all__ = [
    "ExerciseError",
    "hint",
    *loading_audio.__all__,
    *time_and_frequency.__all__,
    *dataset.__all__,
    *models.__all__,
    *training.__all__,
    *embeddings.__all__,
    *verification.__all__,
]
