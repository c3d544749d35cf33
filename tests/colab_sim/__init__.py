"""A simulation of Google Colab runtimes, to run the notebooks as a Colab student does.

In Colab every notebook gets its own fresh runtime: an empty ``/content``, a fresh kernel, a fresh
``/tmp``; only the student's Google Drive survives. The simulation reproduces exactly that:

- :class:`~colab_sim.runtime.Course` (once per test session): a local bare git repository holding
  the working tree, which the setup cell's ``git clone`` of the repository URL is redirected to
  (``url.<bare>.insteadOf``, in a temporary ``HOME``); a loopback HTTP server holding tiny archives
  in each data tier's real layout (:mod:`~colab_sim.tiers`), which counts every request; and
  one folder playing the student's Google Drive, shared by every runtime;
- :class:`~colab_sim.runtime.Runtime` (once per notebook run): a fresh folder standing for
  ``/content``, a fresh ``HOME`` and ``TMPDIR``, a fresh Python environment (a venv that sees the
  shared site-packages read-only, so anything pip or the setup writes stays in the runtime), and a
  fresh kernel (nbclient) that imports the fake ``google.colab`` (``fake/``) at start, as Colab does.

The one change made to a notebook: in its setup cell, ``/content`` is replaced by the runtime's
folder (this machine has no ``/content``).
"""
