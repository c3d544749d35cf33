"""Self-checks run after each exercise: ``helpers.checks.<name>(...)``.

A check prints one line starting with ✓ when the answer is right. When it is wrong it raises
``ExerciseError`` (an ``AssertionError``) saying what is wrong and giving a hint, never the solution.
The checks are grouped by notebook: ``signals`` (01–02), ``dataset`` (03), ``models`` (04),
``evaluation`` (05–07).
"""

from ._common import ExerciseError, passed
from .dataset import *  # noqa: F403
from .evaluation import *  # noqa: F403
from .models import *  # noqa: F403
from .signals import *  # noqa: F403

__all__ = ["ExerciseError", "passed"]
