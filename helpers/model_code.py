"""Your model classes, carried from notebook 04 to 05 (a new runtime) in ``my_models.pkl``.

``cloudpickle`` saves a class defined in a notebook *by value*: its code and everything it uses that
the notebook defined (functions, other classes, constants); modules such as ``torch`` go by name.
The file sits next to the checkpoints (on Drive when mounted) and is read by the Python version that
wrote it (04 and 05 both run in Colab's).
"""

import pickle
from pathlib import Path

import cloudpickle
import torch

from .checkpoints import checkpoint_dir
from .paths import atomic_write_bytes


def model_code_path() -> Path:
    """``checkpoint_dir() / "my_models.pkl"`` (on Drive when mounted)."""
    return checkpoint_dir() / "my_models.pkl"


def save_model_code(examples: dict[type, torch.Tensor], path=None) -> Path:
    """Build each class of ``examples`` (class → batch ``(B, F[, T])``) as ``cls(F, 5).eval()``, which
    must return ``(B, 5)``, and save those that do to ``path`` (default :func:`model_code_path`).

    A class raising ``NotImplementedError`` (not written yet) is left out with a message; then
    ``RuntimeError`` names any other that fails.
    """
    ready, failed = {}, []
    for cls, x in examples.items():
        try:
            with torch.no_grad():
                shape = tuple(cls(x.shape[1], 5).eval()(x).shape)
            if shape != (len(x), 5):
                raise ValueError(f"returns {shape}, not {(len(x), 5)}")
            ready[cls.__name__] = cls
        except NotImplementedError:
            print(f"{cls.__name__}: not written yet, so 05 trains only the reference model")
        except Exception as error:  # the student's code may raise anything
            failed.append(f"{cls.__name__}: {type(error).__name__}: {error}")
    path = Path(path or model_code_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, cloudpickle.dumps(ready))
    if failed:
        raise RuntimeError("On a real batch:\n  " + "\n  ".join(failed) + "\nFix and run again.")
    print(f"Saved {', '.join(ready) or 'no class'} to {path} for notebook 05")
    return path


def load_model_code(path=None, verbose: bool = True) -> dict[str, type]:
    """The classes 04 saved (name → class), saying from where; ``{}`` (and how to make them) if none."""
    path = Path(path or model_code_path())
    if not path.is_file():
        if verbose:
            print(
                f"No model code from notebook 04 at {path}: run notebook 04 to its end first (in "
                "Colab with `drive` ticked, so that the file survives the runtime).\n"
                "Meanwhile only the reference models of helpers.models are trained here."
            )
        return {}
    try:
        classes = pickle.loads(path.read_bytes())
    except Exception as error:  # another Python version, a truncated file...
        raise ImportError(
            f"{path} cannot be loaded: {type(error).__name__}: {error}. Run notebook 04 to its "
            "end again in this runtime (it rewrites the file)."
        ) from error
    if verbose:
        print(f"Your classes of notebook 04, from {path}: {', '.join(classes) or 'none'}")
    return classes
