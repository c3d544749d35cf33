"""Self-checks run after each exercise: ``checks.<name>(answer, ...)``; hints: ``checks.hint(name)``.

A check prints one line starting with ✓ when the answer is right, else raises ``ExerciseError`` (an
``AssertionError``) saying what is wrong and where to look, never the solution line, and how to ask
for more help: ``checks.hint("stft_db")`` prints the next hint each call (``level=2`` picks one).

One module per notebook, re-exported here: ``loading_audio`` (01), ``time_and_frequency`` (02),
``dataset`` (03), ``models`` (04), ``training`` (05), ``embeddings`` (06), ``verification`` (07);
``core`` holds their engine (``docs/checks.md``). A check is named after the *answer*, a noun
(``stft_db``, ``parameter_count``), never after a public name of another ``helpers`` module, so it
cannot be taken for the library function that does the job (``helpers.models.count_parameters``).
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

_MODULES = (loading_audio, time_and_frequency, dataset, models, training, embeddings, verification)
__all__ = ["ExerciseError", "hint", *(name for module in _MODULES for name in module.__all__)]
