"""Test configuration: float64 on for the theory, few threads, headless plotting."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
