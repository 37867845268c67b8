"""Argument checks for scalars (sizes, counts, weights), run before any JAX work.

Shared by the eigensolvers, the update operators and the figure data functions. Each raises a ``ValueError`` that names the argument and the assumption, so that a bad size or
weight fails in one line instead of as an ``IndexError`` deep inside NumPy or matplotlib.
"""

from __future__ import annotations

import math
import operator

__all__ = ["count", "finite", "positive", "non_negative"]


def count(name: str, value, *, minimum: int, why: str = "") -> int:
    """``value`` as an ``int`` of at least ``minimum`` (grid sizes, iteration counts); ``why``
    says where the minimum comes from, when it is not obvious."""
    because = f" ({why})" if why else ""
    try:
        if isinstance(value, bool):  # True is an int to Python, never a count to a user
            raise TypeError
        n = operator.index(value)
    except TypeError:
        raise ValueError(
            f"{name}: expected an integer >= {minimum}{because}, got {value!r}"
        ) from None
    if n < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}{because}, got {n}")
    return n


def finite(name: str, value) -> float:
    """``value`` as a finite ``float``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name}: expected a finite number, got {x}")
    return x


def positive(name: str, value) -> float:
    """``value`` as a finite ``float > 0`` (step sizes, half-widths)."""
    x = finite(name, value)
    if x <= 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {x:g}")
    return x


def non_negative(name: str, value) -> float:
    """``value`` as a finite ``float >= 0`` (regularisation weights: γ < 0 is not a remedy)."""
    x = finite(name, value)
    if x < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {x:g}")
    return x
