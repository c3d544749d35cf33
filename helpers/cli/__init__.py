"""Command lines only: each module here is argparse + ``main`` over a library module of ``helpers``."""
