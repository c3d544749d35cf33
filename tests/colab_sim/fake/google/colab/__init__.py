"""A stand-in for Colab's ``google.colab`` package, for the Colab-runtime simulation of the tests.

Only what the kit touches exists: :mod:`google.colab.drive` (``mount``) and
:mod:`google.colab.output` (``eval_js``, ``enable_custom_widget_manager``). A simulated runtime
imports this package at kernel start, as Colab does, so ``"google.colab" in sys.modules`` is true.
"""

from . import drive, output

__all__ = ["drive", "output"]
