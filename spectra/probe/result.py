"""What a probe returns: :class:`Spectrum` (one operator's eigenvalues with residuals) and
:class:`ProbeResult` (everything :func:`spectra.probe.core.probe_game` found at one point), both
convertible to JSON-ready dictionaries."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from spectra.probe import advice as advice_lib
from spectra.probe.update import UpdateRule

__all__ = ["HESSIAN_NAMES", "Spectrum", "ProbeResult", "finite_or_none"]

HESSIAN_NAMES = {"phi": "∇²_φ L_φ", "theta": "∇²_θ L_θ"}  # each player's Hessian, as printed


@dataclasses.dataclass
class Spectrum:
    """Eigenvalues of one operator, with how they were obtained.

    Attributes:
        operator: ``"jacobian"`` (∇v), ``"hessian_phi"``, ``"hessian_theta"`` or ``"update"`` (∇F).
        which: the selection (``"LM"``, ``"LR"``, ...).
        values: complex eigenvalues, best first per ``which``.
        residuals: relative residual of each value (for Theorem 3, that of its source λ).
        converged: whether each residual is below the solver's tolerance.
        method: ``"dense"``, ``"krylov"``, ``"arpack"`` or ``"theorem3"``.
        n_products: products used (solver and residual check together; a dense matrix serves
            every selection and is counted once, on the first).
        seconds: wall time.
        size: the operator's dimension.
        error: why fewer than ``k`` values converged, else ``None``.
    """

    operator: str
    which: str
    values: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    method: str
    n_products: int
    seconds: float
    size: int
    error: str | None = None

    @property
    def spectral_radius(self) -> float:
        """``max |λ|`` over the values that converged (NaN if none)."""
        v = self.values[self.converged]
        return float(np.abs(v).max()) if v.size else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "operator": self.operator,
            "which": self.which,
            "size": self.size,
            "method": self.method,
            "real": self.values.real.tolist(),
            "imag": self.values.imag.tolist(),
            "residuals": [float(r) if np.isfinite(r) else None for r in self.residuals],
            "converged": [bool(c) for c in self.converged],
            "n_products": self.n_products,
            "seconds": self.seconds,
            "error": self.error,
        }


@dataclasses.dataclass
class ProbeResult:
    """Everything :func:`probe_game` found at one point (see the module docstring).

    ``jacobian_full`` holds the whole spectrum of ∇v when it was computed densely."""

    game: str
    n_phi: int
    n_theta: int
    dtype: str
    k: int
    stationarity: float
    jacobian: dict[str, Spectrum]
    hessians: dict[str, Spectrum]
    update: Spectrum | None
    update_rule: UpdateRule | None
    advice: dict | None
    settings: dict
    seconds: float
    notes: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    jacobian_full: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.n_phi + self.n_theta

    @property
    def ok(self) -> bool:
        """Whether every requested eigenvalue converged."""
        return not self.errors

    @property
    def update_spectral_radius(self) -> float | None:
        """ρ(∇F) of the update operator used (``None`` when it was not probed)."""
        return None if self.update is None else finite_or_none(self.update.spectral_radius)

    @property
    def n_products(self) -> int:
        spectra = [*self.jacobian.values(), *self.hessians.values()]
        if self.update is not None:
            spectra.append(self.update)
        return sum(s.n_products for s in spectra)

    def jacobian_eigenvalues(self) -> np.ndarray:
        """The whole spectrum of ∇v when it was computed densely, else the distinct converged
        eigenvalues over all selections."""
        if self.jacobian_full is not None:
            return self.jacobian_full
        values = [s.values[s.converged] for s in self.jacobian.values()]
        return advice_lib.distinct(np.concatenate(values) if values else np.zeros(0, complex))

    def to_dict(self) -> dict[str, Any]:
        return {
            "game": self.game,
            "n": self.n,
            "n_phi": self.n_phi,
            "n_theta": self.n_theta,
            "dtype": self.dtype,
            "k": self.k,
            "stationarity": self.stationarity,
            "jacobian": {w: s.to_dict() for w, s in self.jacobian.items()},
            "hessians": {p: s.to_dict() for p, s in self.hessians.items()},
            "update": None if self.update is None else self.update.to_dict(),
            "update_spectral_radius": self.update_spectral_radius,
            "update_rule": None if self.update_rule is None else self.update_rule.to_dict(),
            "advice": self.advice,
            "settings": self.settings,
            "seconds": self.seconds,
            "n_products": self.n_products,
            "notes": self.notes,
            "errors": self.errors,
            "jacobian_full": None
            if self.jacobian_full is None
            else {
                "real": self.jacobian_full.real.tolist(),
                "imag": self.jacobian_full.imag.tolist(),
            },
        }


def finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
