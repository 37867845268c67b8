"""What the theory says about a probed spectrum of ∇v, next to the configuration that was used.

From the eigenvalues λ of the game Jacobian ∇v at a point (all of them when the probe went
dense, otherwise the union of the probed selections, which holds the largest |λ|, |Im λ|, Re λ
and the smallest Re λ — the candidates for the limiting eigenvalues):

- **Lemma 11** (lecture; Mescheder et al. 2017, Lemma 4): gradient descent is locally stable iff
  ``η < min_k 2 Re(1/λ_k)`` (:func:`spectra.theory.max_stable_step`);
- **Theorem 2** (Gidel et al. 2019, eq. 4): ``η_best``, its bounds ``Re(1/λ₁) ≤ η_best ≤
  2 Re(1/λ₁)``, the bounds on ``ρ_max(η_best)²`` and the limiting eigenvalues
  (:func:`spectra.theory.optimal_step_size`);
- **Theorem 4** (eq. 9): the interval ``I(λ)`` of each limiting eigenvalue, where a small negative
  β helps, and their intersection (:func:`spectra.theory.momentum_interval`);
- **Theorem 3** (eq. 7) numerically minimised over (η, β): the recommended heavy-ball parameters
  and their predicted rate (:func:`spectra.theory.optimal_momentum`), next to the predicted rate of
  the configuration used (one η and β for both players; with per-player values the matrix-free
  spectral radius of the real update operator is the one to read).

All of these assume a stable stationary point: every ``Re λ > 0``. Where the probed eigenvalues
violate it, the result says so and reports only what still holds (Theorem 3's map of each λ).
From a partial spectrum the assumption is only checked when the smallest real parts were probed
(``which="SR"``), and every rate is a lower bound: an eigenvalue that was not probed can only make
ρ larger. The summary says both, counts the null directions left out, and sets the predicted rate
of the configuration used next to the measured spectral radius of its update operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from spectra import theory
from spectra.probe.update import UpdateRule

__all__ = ["distinct", "drop_null", "theory_advice"]


def distinct(values, *, rtol: float = 1e-6) -> np.ndarray:
    """The values with near-duplicates (``|λ_i − λ_j| ≤ rtol · max|λ|``) removed, order kept."""
    values = np.asarray(values, dtype=np.complex128).reshape(-1)
    if values.size == 0:
        return values
    scale = max(float(np.abs(values).max()), np.finfo(float).tiny)
    kept: list[complex] = []
    for lam in values:
        if all(abs(lam - other) > rtol * scale for other in kept):
            kept.append(lam)
    return np.asarray(kept, dtype=np.complex128)


def drop_null(values, *, null_tol: float = 1e-4) -> tuple[np.ndarray, int]:
    """``(values without the null ones, how many were dropped)``: a value is null when
    ``|λ| ≤ null_tol · max|λ|`` (see :func:`theory_advice`)."""
    values = np.asarray(values, dtype=np.complex128).reshape(-1)
    if values.size == 0:
        return values, 0
    null = np.abs(values) <= null_tol * np.abs(values).max()
    return values[~null], int(null.sum())


def _complex_list(values) -> dict[str, list[float]]:
    values = np.asarray(values, dtype=np.complex128).reshape(-1)
    return {"real": values.real.tolist(), "imag": values.imag.tolist()}


def _f(x) -> float | None:
    x = float(np.asarray(x))
    return x if np.isfinite(x) else None


def theory_advice(
    eigenvalues,
    rule: UpdateRule | None = None,
    *,
    complete: bool = False,
    which: Sequence[str] | None = None,
    update_radius: float | None = None,
    null_tol: float = 1e-4,
) -> dict:
    """The theory's verdict on a spectrum of ∇v, as a JSON-ready dictionary (module docstring).

    Args:
        eigenvalues: eigenvalues of ∇v (complex; conjugates may be included or not).
        rule: the update rule that was used, to compare with the recommendation.
        complete: whether ``eigenvalues`` is the whole spectrum (a dense probe); otherwise the
            results hold for the probed eigenvalues and are labelled so.
        which: the selections the eigenvalues came from when not ``complete``: ``Re λ > 0`` is
            checked only if ``"SR"`` (smallest real parts) is among them, else ``holds`` is
            ``None`` unless a probed value already violates it.
        update_radius: the measured spectral radius of the real update operator ∇F, reported
            next to the predicted rate of the configuration used.
        null_tol: eigenvalues with ``|λ| ≤ null_tol · max|λ|`` are counted as null directions
            (flat directions of the game, or zeros blurred by rounding: float32 products put
            exact zeros near 1e-6·max|λ|) and left out of the theorems, which they would only
            pin at ρ = 1.
    """
    lam = np.asarray(eigenvalues, dtype=np.complex128).reshape(-1)
    if not complete:  # a union of selections repeats values
        lam = distinct(lam)
    if lam.size == 0:
        raise ValueError("eigenvalues: expected at least one eigenvalue of ∇v")
    if not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues: expected finite values")
    if not (np.isfinite(null_tol) and 0 <= null_tol < 1):
        raise ValueError(f"null_tol: expected a value in [0, 1), got {null_tol}")
    lam, n_null = drop_null(lam, null_tol=null_tol)
    if lam.size == 0:
        raise ValueError("eigenvalues: every eigenvalue is (numerically) zero")
    bad = lam.real <= 0
    checked = complete or (which is not None and "SR" in which)
    out: dict[str, Any] = {
        "source": "full spectrum (dense)" if complete else "probed eigenvalues of ∇v (union)",
        "n_eigenvalues": int(lam.size),
        "null_directions": {"count": n_null, "null_tol": null_tol},
        "assumption": {
            "statement": "Re λ > 0 for every eigenvalue of ∇v (a stable stationary point)",
            "holds": False if bad.any() else (True if checked else None),
            "n_violating": int(bad.sum()),
            "min_real_part": float(lam.real.min()),
        },
    }
    if not checked:
        out["assumption"]["note"] = (
            "checked on the probed eigenvalues only: the smallest real parts (which='SR') were "
            "not probed"
        )
    if rule is not None:
        out["used"] = _used(lam, rule)
        if update_radius is not None:
            out["used"]["update_spectral_radius"] = _f(update_radius)
    if bad.any():
        good = lam[~bad]
        out["summary"] = (
            f"{int(bad.sum())} of {lam.size} eigenvalues have Re λ ≤ 0 (min {lam.real.min():.3g}):"
            " the point is not a stable stationary point, so Lemma 11 and Theorems 2 and 4 do not"
            " apply here; only Theorem 3's map λ → μ± (reported under 'used') holds."
        )
        if good.size:
            out["restricted"] = {
                "note": (
                    f"indicative only: the theorems applied to the {good.size} eigenvalues with "
                    "Re λ > 0 (the attracting directions), ignoring the others"
                ),
                **_theorems(good),
            }
            r = out["restricted"]["recommended"]
            out["summary"] += (
                f" Restricted to the {good.size} eigenvalues with Re λ > 0 (indicative only): "
                f"η_best = {out['restricted']['theorem2']['eta_best']:.4g}, heavy ball best at "
                f"η = {r['eta']:.4g}, β = {r['beta']:.3f} (ρ = {r['rho']:.6f})."
            )
        out["summary"] = _caveats(out, complete=complete, checked=checked) + out["summary"]
        out["summary"] += _used_text(out, rule, update_radius)
        return out
    out.update(_theorems(lam))
    out["summary"] = _caveats(out, complete=complete, checked=checked) + _summary(out)
    out["summary"] += _used_text(out, rule, update_radius)
    return out


def _caveats(out: dict, *, complete: bool, checked: bool) -> str:
    """What the verdict rests on: a partial spectrum, an unchecked assumption, null directions."""
    text = ""
    if not complete:
        text += (
            f"From the {out['n_eigenvalues']} probed eigenvalues of ∇v, not the whole spectrum: "
            "every rate below is a lower bound. "
        )
    if not checked and out["assumption"]["holds"] is None:
        text += "Re λ > 0 is not checked (probe which SR for the smallest real parts). "
    n_null = out["null_directions"]["count"]
    if n_null:
        text += (
            f"{n_null} null direction{'s' if n_null > 1 else ''} (|λ| ≤ "
            f"{out['null_directions']['null_tol']:.0e}·max|λ|) left out: no step size contracts "
            "along them (ρ = 1 there). "
        )
    return text


def _used_text(out: dict, rule: UpdateRule | None, update_radius: float | None) -> str:
    """The configuration used: Theorem 3's predicted rate and the measured ρ(∇F)."""
    if rule is None or not rule.heavy_ball:
        return ""
    rates = out["used"]["rho_theorem3_if_both_used"]
    exact = rule.theorem3_applies
    text = f" Used: {rule.describe()}; Theorem 3 predicts ρ = {_g(rates['phi'])}"
    text += "." if exact else " with the discriminator's (η, β) for both (indicative only)."
    if update_radius is not None and np.isfinite(update_radius):
        verdict = "converges" if update_radius < 1 else "does not converge"
        text += (
            f" Measured on the real update operator: ρ(∇F) = {update_radius:.6f}, so the update "
            f"used {verdict} locally."
        )
    return text


def _g(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.6f}"


def _theorems(lam: np.ndarray) -> dict:
    """Lemma 11, Theorems 2 and 4 and the optimal heavy ball, for eigenvalues with Re λ > 0."""
    lam_j = jnp.asarray(lam)
    step = theory.optimal_step_size(lam_j)
    active = np.asarray(step.active)
    limiting = distinct(lam[active].real + 1j * np.abs(lam[active].imag))  # one per pair
    intervals = [theory.momentum_interval(jnp.asarray(x)) for x in limiting]
    inter = theory.interval_intersection(jnp.asarray(limiting))
    best = theory.optimal_momentum(lam_j)
    empty = bool(inter.is_empty)
    return {
        "lemma11": {"max_stable_step": _f(theory.max_stable_step(lam_j))},
        "theorem2": {
            "eta_best": _f(step.eta),
            "rho": _f(step.rho),
            "eta_bounds": [_f(step.eta_bounds[0]), _f(step.eta_bounds[1])],
            "rho_squared_bounds": [
                _f(step.rho_squared_bounds[0]),
                _f(step.rho_squared_bounds[1]),
            ],
            "tangent_case": bool(step.tangent),
            "limiting_eigenvalues": _complex_list(limiting),
        },
        "theorem4": {
            "intervals": [{"lo": _f(i.lo), "hi": _f(i.hi)} for i in intervals],
            "intersection": None if empty else [_f(inter.lo), _f(inter.hi)],
            "eta_best_in_intersection": (not empty) and bool(inter.lo < step.eta < inter.hi),
        },
        "recommended": {
            "eta": _f(best.eta),
            "beta": _f(best.beta),
            "rho": _f(best.rho),
            "gd_eta": _f(best.gd_eta),
            "gd_rho": _f(best.gd_rho),
        },
    }


def _used(lam: np.ndarray, rule: UpdateRule) -> dict:
    """The predicted rate of the configuration used, per player step size (Theorem 3)."""
    used: dict[str, Any] = {"rule": rule.to_dict(), "description": rule.describe()}
    if not rule.heavy_ball:
        used["note"] = "Adam has no fixed linear update operator: no predicted rate"
        return used
    rates = {}
    for who, eta, beta in (
        ("phi", rule.eta[0], rule.beta[0]),
        ("theta", rule.eta[1], rule.beta[1]),
    ):
        rates[who] = _f(theory.momentum_spectral_radius(jnp.asarray(lam), eta=eta, beta=beta))
    used["rho_theorem3_if_both_used"] = rates
    used["theorem3_exact"] = rule.theorem3_applies
    if not rule.theorem3_applies:
        used["note"] = (
            "per-player η, β or alternating updates: Theorem 3 is only indicative here (with "
            "either player's (η, β) applied to both); read the matrix-free spectral radius of ∇F"
        )
    return used


def _summary(out: dict) -> str:
    t2, rec = out["theorem2"], out["recommended"]
    text = (
        f"Gradient descent is stable for η < {out['lemma11']['max_stable_step']:.4g} (Lemma 11); "
        f"the best step η_best = {t2['eta_best']:.4g} gives ρ = {t2['rho']:.6f} (Theorem 2). "
        f"Heavy ball is best at η = {rec['eta']:.4g}, β = {rec['beta']:.3f} with "
        f"ρ = {rec['rho']:.6f}."
    )
    inter = out["theorem4"]["intersection"]
    if inter is not None:
        text += f" A small negative β helps every limiting eigenvalue for η ∈ ({inter[0]:.4g}, {inter[1]:.4g}) (Theorem 4)."
    else:
        text += " The intervals I(λ) of the limiting eigenvalues do not intersect (Theorem 4)."
    return text
