"""``google.colab.output`` of the simulation: JavaScript calls are recorded, never run.

There is no browser behind a simulated runtime, so :func:`eval_js` records the script and returns
``None`` (Colab returns the script's value); :func:`enable_custom_widget_manager` records the call.
"""

from __future__ import annotations

SCRIPTS: list[str] = []
"""Every script passed to :func:`eval_js` in this runtime, in order."""

CUSTOM_WIDGET_MANAGER: list[bool] = []
"""One ``True`` per call of :func:`enable_custom_widget_manager`, one ``False`` per disable."""


def eval_js(script: str, ignore_result: bool = False, timeout_sec: float | None = None) -> None:
    """Record ``script``; return ``None`` (no browser runs it here)."""
    SCRIPTS.append(script)
    return None


def enable_custom_widget_manager() -> None:
    """Record that third-party widgets (ipywidgets 8 front ends) were enabled."""
    CUSTOM_WIDGET_MANAGER.append(True)


def disable_custom_widget_manager() -> None:
    """Record that third-party widgets were disabled."""
    CUSTOM_WIDGET_MANAGER.append(False)
