"""Self-checks after each exercise: ``checks.<name>(answer, ...)``; hints: ``checks.hint(name)``.

A check prints a line starting with ✓ for a right answer, else raises ``ExerciseError`` (an
``AssertionError``) naming the mistake and where to look, never the solution; ``checks.hint(name)``
prints the next hint each call. One module per notebook, re-exported here (01 ``loading_audio`` …
07 ``verification``), on the engine in ``core`` (``docs/checks.md``). A check is named after the
*answer*, a noun (``stft_db``), never after a public name of another ``helpers`` module.
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
