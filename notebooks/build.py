"""Write the walkthrough notebooks and execute them in place (outputs saved).

    python notebooks/build.py            # write and execute all
    python notebooks/build.py --no-run   # write only

Each notebook uses the public API of ``spectra`` only. ``tests/test_notebooks.py`` executes the
saved notebooks, so edit the cells here, rebuild, and commit the ``.ipynb`` files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
%matplotlib inline
%config InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "dpi": 72}
import jax

jax.config.update("jax_enable_x64", True)  # the theorems are checked to ~1e-12 below

import numpy as np

from spectra import figures, games, theory, zoo
from spectra import operators as ops
from spectra.bounds import bounds_report"""


THEORY = [
    (
        "md",
        """\
# The theorems behind the step size and the momentum

A walk through the closed forms of *Negative Momentum for Improved Game Dynamics* (Gidel et al.
2019) and lecture 14 of IFT 6085 (*The Numerics of GANs*), each held against the autodiff
Jacobian of the real update operator:

- **Lemma 11** (Mescheder et al. 2017): the largest stable step of gradient descent;
- **Theorem 2**: the best step size of gradient descent, its bounds and its rate;
- **Theorem 3**: the eigenvalues of the heavy-ball operator;
- **Theorem 4**: where a small *negative* momentum helps.

Everything is about the spectrum of ∇v at a stationary point ω*: near ω*, an update operator F
converges at the rate ρ(∇F(ω*)) (Theorem 1 / Proposition 6).""",
    ),
    ("code", SETUP),
    (
        "md",
        """\
## A game with a prescribed spectrum

`zoo.with_spectrum` builds a quadratic game whose ∇v has the eigenvalues we ask for (and their
conjugates); with a PRNG key, ∇v is a dense (still normal) matrix with that spectrum.""",
    ),
    (
        "code",
        """\
lam = np.array([1 + 1.5j, 2 + 1j, 4.0])
game = zoo.with_spectrum(lam, key=jax.random.PRNGKey(0))
w_star = game.point()
print(np.sort_complex(np.linalg.eigvals(np.asarray(games.jacobian(game, w_star)))).round(6))


def radius(op):
    \"\"\"ρ(∇F(ω*)) from the autodiff Jacobian of the operator itself.\"\"\"
    return float(ops.spectral_radius(op, ops.fixed_point_state(op, w_star)))""",
    ),
    (
        "md",
        """\
## Lemma 11: the largest stable step

Gradient descent `F_η(ω) = ω − η v(ω)` has `∇F = I − η∇v`; it is locally stable iff
`η < 2 Re(1/λ)` for every eigenvalue λ (the lecture's `h < 2/|Re λ| / (1 + (Im λ/Re λ)²)` with
`A = −∇v`). Just below the bound the operator contracts, just above it does not:""",
    ),
    (
        "code",
        """\
h = float(theory.max_stable_step(lam))
print(f"Lemma 11: stable iff η < {h:.6f}")
for factor in (0.99, 1.01):
    print(f"  η = {factor} × bound: ρ = {radius(ops.simultaneous(game, eta=factor * h)):.6f}")""",
    ),
    (
        "md",
        """\
The lecture's Fig. 1 on another spectrum, `{0.15 + i, 0.6 + 0.4i}`, whose first eigenvalue is
nearly imaginary: gradient descent is stable only for `h < 2 Re(1/λ) ≈ 0.293` (left; × marks
eigenvalues of `I − h∇v` outside the unit circle). Consensus optimization with γ = 1 (lecture
§4) follows `v + γ∇½‖v‖²`, whose Jacobian at ω* is `∇v + γ∇vᵀ∇v`; ∇v is normal here, so each λ
moves to `λ + γ|λ|²`, to the right, and Lemma 11 now allows `h < 0.99` (middle). Right: the
spectral radius against h crosses 1 exactly at Lemma 11's bounds (dotted).""",
    ),
    (
        "code",
        """\
figures.render("stability", figures.compute("stability", n_steps=60))""",
    ),
    (
        "md",
        """\
## Theorem 2: the best step size

`optimal_step_size` solves `min_η max_k |1 − ηλ_k|` exactly and reports Theorem 2's bounds
`Re(1/λ₁) ≤ η_best ≤ 2 Re(1/λ₁)` and `max sin²ψ_k ≤ ρ² ≤ 1 − Re(1/λ₁)δ`. A scan of the real
operator's spectral radius finds the same minimum:""",
    ),
    (
        "code",
        """\
best = theory.optimal_step_size(lam)
print(f"η_best = {float(best.eta):.6f} in [{float(best.eta_bounds[0]):.4f}, {float(best.eta_bounds[1]):.4f}]")
print(f"ρ      = {float(best.rho):.6f};  ρ² = {float(best.rho) ** 2:.4f} in "
      f"[{float(best.rho_squared_bounds[0]):.4f}, {float(best.rho_squared_bounds[1]):.4f}]")
print("limiting eigenvalues:", lam[np.asarray(best.active)], "tangent:", bool(best.tangent))
etas = np.linspace(0.8, 1.2, 9) * float(best.eta)
scan = [radius(ops.simultaneous(game, eta=float(e))) for e in etas]
print("scan minimum at η =", round(float(etas[int(np.argmin(scan))]), 6), " ρ =", round(min(scan), 6))""",
    ),
    (
        "md",
        """\
The paper's Fig. 2: the paths `1 − ηλᵢ` as η grows. With a real eigenvalue 4 (left) one
eigenvalue limits the rate and its path is tangent to the circle of radius ρ(η_best), at
`η_best = Re(1/λ₁)` with `ρ = sin ψ₁` (the "Particularly" case of Theorem 2). Moving that
eigenvalue to 8 (right) makes two paths cut the circle: a larger η would push `1 − 8η` out of the
red circle, a smaller one would pull `1 − η(1 + 1.5i)` out, so `η_best ≈ 0.230` sits below the
tangent point `Re(1/λ₁) ≈ 0.308` and the rate, `ρ ≈ 0.844`, is worse than `sin ψ₁ ≈ 0.832`.""",
    ),
    ("code", 'figures.render("step_size", figures.compute("step_size", n_steps=100))'),
    (
        "md",
        """\
## Theorem 3: the eigenvalues of heavy-ball momentum

`ω_{t+1} = ω_t − η v(ω_t) + β(ω_t − ω_{t−1})` acts on `(ω_t, ω_{t−1})`; each eigenvalue λ of ∇v
becomes the two roots `μ±(β, η, λ)` of eq. 7. Against the autodiff spectrum of the operator:""",
    ),
    (
        "code",
        """\
eta, beta = 0.3, -0.2
mu_plus, mu_minus = (np.asarray(m) for m in theory.momentum_eigenvalues(lam, eta=eta, beta=beta))
closed = np.concatenate([mu_plus, mu_minus, mu_plus.conj(), mu_minus.conj()])
op = ops.momentum(game, eta=eta, beta=beta)
autodiff = np.asarray(ops.spectrum(op, ops.fixed_point_state(op, w_star)))
print("max |closed form − autodiff| =", np.abs(np.sort_complex(closed) - np.sort_complex(autodiff)).max())""",
    ),
    (
        "code",
        'figures.render("momentum_eigenvalues", figures.compute("momentum_eigenvalues", n_betas=401))',
    ),
    (
        "md",
        """\
## Theorem 4: where a small negative momentum helps

For `η ∈ I(λ)` the rate of λ *increases* with β at β = 0, so a small β < 0 lowers it. When the
intervals of the limiting eigenvalues overlap around η_best, negative momentum beats the best
gradient descent. `optimal_momentum` finds the best (η, β) numerically:""",
    ),
    (
        "code",
        """\
spectrum = np.array([1 + 1.5j, 2 + 1j, 3 + 0.5j])
lo, hi = theory.momentum_interval(spectrum)
for z, a, b in zip(spectrum, np.asarray(lo), np.asarray(hi)):
    print(f"I({z:.3g}) = ({a:.4f}, {b:.4f})")
cap = theory.interval_intersection(spectrum)
print(f"intersection = ({float(cap.lo):.4f}, {float(cap.hi):.4f})")
m = theory.optimal_momentum(spectrum)
print(f"optimal η = {float(m.eta):.4f}, β = {float(m.beta):.4f}: ρ = {float(m.rho):.4f}"
      f"  (gradient descent: η = {float(m.gd_eta):.4f}, ρ = {float(m.gd_rho):.4f})")""",
    ),
    (
        "code",
        'figures.render("rate_map", figures.compute("rate_map", eigenvalues=spectrum, n_eta=81, n_beta=61))',
    ),
    (
        "md",
        """\
Theorem 4 itself is a statement about the slope `ρ'_{λ,η}(0)` of eq. 8 (ρ is the *squared*
magnitude `max |μ±|²`). Differentiating the closed form of Theorem 3 with `jax.grad` at β = 0,
the slope is positive exactly on `I(λ)` (shaded), for each eigenvalue of the spectrum above:""",
    ),
    (
        "code",
        """\
from matplotlib.figure import Figure


def slope_at_zero(z, eta):
    \"\"\"ρ'_{λ,η}(0) of eq. 8, by autodiff of Theorem 3's closed form.\"\"\"
    return jax.grad(lambda b: theory.momentum_rate(z, eta=eta, beta=b) ** 2)(0.0)


grid = np.linspace(0.01, 1.0, 397)
fig = Figure(figsize=(10, 3.2), layout="constrained")
for ax, z in zip(fig.subplots(1, 3), spectrum):
    slopes = np.asarray(jax.vmap(lambda e: slope_at_zero(z, e))(grid))
    interval = theory.momentum_interval(z)
    inside = (grid > float(interval.lo)) & (grid < float(interval.hi))
    assert np.array_equal(slopes > 0, inside)  # Theorem 4, at every η of the grid
    ax.plot(grid, slopes, color="C0")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.axvspan(float(interval.lo), min(float(interval.hi), grid[-1]), color="C2", alpha=0.2)
    ax.set(xlabel="η", ylabel="ρ'(0)")
    ax.set_title(f"λ = {z:.3g} (shaded: I(λ))\\nρ'(0) > 0 ⇔ η ∈ I(λ) at {np.mean((slopes > 0) == inside):.0%} of η",
                 fontsize=9)
fig""",
    ),
    (
        "md",
        """\
The theorem's "Particularly": at `η = Re(1/λ)` the slope is `2 Re(λ) Re(1/λ) > 0`, and
`|Arg λ| ≥ π/4` puts the whole range `(Re(1/λ), 2 Re(1/λ))` of Theorem 2's bounds inside `I(λ)`.
The condition matters: for `2 + i` and `3 + 0.5i` (|Arg λ| < π/4) the range sticks out of `I(λ)`.""",
    ),
    (
        "code",
        """\
for z in spectrum:
    e = float((1 / z).real)
    interval = theory.momentum_interval(z)
    inside = float(interval.lo) <= e and 2 * e <= float(interval.hi)
    assert abs(float(slope_at_zero(z, e)) - 2 * z.real * e) < 1e-9
    assert inside or abs(np.angle(z)) < np.pi / 4
    print(f"λ = {z:.3g}: ρ'(0) at Re(1/λ) = {float(slope_at_zero(z, e)):.6f}, "
          f"2 Re(λ) Re(1/λ) = {2 * z.real * e:.6f}; |Arg λ| = {abs(np.angle(z)):.3f} "
          f"({'≥' if abs(np.angle(z)) >= np.pi / 4 else '<'} π/4), (Re(1/λ), 2Re(1/λ)) ⊂ I(λ): {inside}")""",
    ),
    (
        "md",
        """\
The paper's last numerical claim (end of §3): for a single non-imaginary eigenvalue λ (with its
conjugate), the optimal β is negative and the optimal step size is larger than `Re(1/λ)`, the
best step of gradient descent:""",
    ),
    (
        "code",
        """\
for z in (1 + 1.5j, 2 + 1j, 3 + 0.5j, 1 + 0.1j, 0.1 + 1j):
    m = theory.optimal_momentum([z])
    assert float(m.beta) < 0 and float(m.eta) > (1 / z).real
    print(f"λ = {z:.3g}: β* = {float(m.beta):+.4f}, η* = {float(m.eta):.4f} > Re(1/λ) = "
          f"{(1 / z).real:.4f}; ρ = {float(m.rho):.4f} against gradient descent's {float(m.gd_rho):.4f}")""",
    ),
    (
        "md",
        """\
## Theorem 1 / Proposition 6: the measured rate is ρ(∇F(ω*))

Near ω*, `‖ω_t − ω*‖` shrinks like `ρ(∇F(ω*))^t`. The `rates` figure runs six operators on a
dense quadratic game with spectrum `{0.3 + 1.2i, 1 + 0.3i, 0.7}`: gradient descent at Theorem 2's
`η_best`, momentum at the optimal (η, β) and at β = +0.2, extragradient, optimistic gradient and
consensus. The rate fitted to each run (after a burn-in of 10 steps) matches the spectral radius
of the operator's autodiff Jacobian; positive momentum is the slowest, negative momentum beats
the best gradient descent.""",
    ),
    (
        "code",
        """\
rates = figures.compute("rates", steps=200)
for name, rho, fit in zip(rates["methods"], rates["spectral_radius"], rates["fitted_rate"]):
    print(f"{name:<32} ρ(∇F) = {rho:.4f}   fitted = {fit:.4f}")
assert np.allclose(np.log(rates["fitted_rate"]), np.log(rates["spectral_radius"]), atol=4e-3)
figures.render("rates", rates)""",
    ),
    (
        "md",
        """\
## Everything at once

`bounds_report` (and `spectra bounds --eigs "..."` on the command line) collects all of the
above. Spectra outside the theorems' assumption (`Re λ ≤ 0`) are refused with a `ValueError`.""",
    ),
    (
        "code",
        """\
report = bounds_report(spectrum)
print(report["max_stable_step"], report["step_size"]["case"], report["momentum"])
try:
    bounds_report([1j, -1j])
except ValueError as err:
    print("ValueError:", err)""",
    ),
]


BILINEAR = [
    (
        "md",
        """\
# The bilinear game and Table 1

`min_θ max_φ θᵀAφ` (Gidel et al. 2019, Fig. 1): ∇v = [[0, −Aᵀ], [A, 0]] has purely imaginary
eigenvalues ±iσ_k(A), outside every theorem's assumption `Re λ > 0`. The paper's Table 1:

| method | β | bounded | converges |
|---|---|---|---|
| simultaneous | any | ✗ | ✗ |
| alternating | > 0 | ✗ | ✗ |
| alternating | 0 | ✓ | ✗ |
| alternating | < 0 | ✓ | ✓ |

We reproduce it from the spectral radius of each operator's autodiff Jacobian and from runs.""",
    ),
    ("code", SETUP),
    (
        "code",
        """\
A = np.array([[1.0, 0.5], [0.0, 1.5]])
game = zoo.bilinear(A)
w_star = game.point()
print("eigenvalues of ∇v:", np.linalg.eigvals(np.asarray(games.jacobian(game, w_star))).round(6))
print("singular values of A:", np.linalg.svd(A, compute_uv=False).round(6))""",
    ),
    (
        "code",
        """\
def outcome(eta, beta, alternating, steps=300):
    op = ops.momentum(game, eta=eta, beta=beta, alternating=alternating)
    rho = float(ops.spectral_radius(op, ops.fixed_point_state(op, w_star)))
    states = ops.iterate(op, ops.initial_state(op, w_star + 0.1), steps)
    d = np.asarray(ops.distances(op, states, w_star))
    return rho, bool(d.max() <= 3 * d[0]), bool(d[-1] <= 0.1 * d[0])


print(f"{'method':<13}{'β':>6}{'ρ(∇F)':>10}{'bounded':>9}{'converges':>11}")
for alternating in (False, True):
    for beta in (-0.3, 0.0, 0.3):
        rho, bounded, converges = outcome(0.5, beta, alternating)
        name = "alternating" if alternating else "simultaneous"
        print(f"{name:<13}{beta:>6}{rho:>10.4f}{'✓' if bounded else '✗':>9}{'✓' if converges else '✗':>11}")""",
    ),
    (
        "md",
        """\
The spectral radius over a grid of (η, β), vectorised with `jax.vmap` over the operator
factories: only alternating updates with β < 0 reach ρ < 1.""",
    ),
    (
        "code",
        """\
from matplotlib.figure import Figure


def radius_map(alternating, etas, betas):
    def rho(eta, beta):
        op = ops.momentum(game, eta=eta, beta=beta, alternating=alternating)
        return ops.spectral_radius(op, ops.fixed_point_state(op, w_star))

    grid = jax.vmap(jax.vmap(rho, (0, None)), (None, 0))
    return np.asarray(jax.jit(grid)(etas, betas))


etas, betas = np.linspace(0.02, 1.0, 50), np.linspace(-0.9, 0.9, 37)
fig = Figure(figsize=(9, 3.6), layout="constrained")
for ax, alternating in zip(fig.subplots(1, 2), (False, True)):
    rho = radius_map(alternating, etas, betas)
    mesh = ax.pcolormesh(etas, betas, np.minimum(rho, 1.3), cmap="magma_r", vmin=0.8, vmax=1.3)
    ax.contour(etas, betas, rho, levels=[1.0], colors="w")
    ax.set(xlabel="η", ylabel="β", title=f"{'alternating' if alternating else 'simultaneous'}: min ρ = {rho.min():.3f}")
fig.colorbar(mesh, ax=fig.axes, label="ρ(∇F) (white: 1)")
fig""",
    ),
    (
        "md",
        """\
The paper's Fig. 1 on the scalar game `min_θ max_φ θφ`: iterates in the (θ, φ) plane and the
distance to the equilibrium, with Table 1 measured on the runs.""",
    ),
    ("code", 'figures.render("bilinear", figures.compute("bilinear", steps=120))'),
    (
        "md",
        """\
Lemma 11 and Theorems 2-4 do not apply here: the bounds refuse the spectrum, and say why.""",
    ),
    (
        "code",
        """\
from spectra.bounds import game_eigenvalues

try:
    bounds_report(game_eigenvalues(game))
except ValueError as err:
    print("ValueError:", err)""",
    ),
]


DIRAC = [
    (
        "md",
        """\
# The Dirac-GAN and consensus optimization

The Dirac-GAN (Mescheder, Geiger & Nowozin 2018): data is a Dirac at 0, the generator a Dirac at
θ, the discriminator `D(x) = ψx`. At the equilibrium (0, 0), `∇v = [[γ, −f'(0)], [f'(0), 0]]`
with the gradient penalty γ; without it the eigenvalues `±i f'(0)` are purely imaginary, and
gradient descent circles or spirals out. Two remedies shift the spectrum to `Re λ > 0`:

- a gradient penalty on the discriminator (R1: `γ/2 ψ²`);
- consensus optimization (lecture eq. 15): follow `v + γ∇½‖v‖²`, whose Jacobian at ω* is
  `∇v + γ∇vᵀ∇v`.""",
    ),
    ("code", SETUP),
    (
        "code",
        """\
plain = zoo.dirac_gan()
w_star = plain.point()
jac = np.asarray(games.jacobian(plain, w_star))
print("∇v at ω* =\\n", jac.round(6), "\\neigenvalues:", np.linalg.eigvals(jac).round(6))


def radius(op, w=w_star):
    return float(ops.spectral_radius(op, ops.fixed_point_state(op, w)))


for name, op in [("simultaneous", ops.simultaneous(plain, eta=0.3)),
                 ("alternating", ops.alternating(plain, eta=0.3))]:
    print(f"{name:<13} ρ = {radius(op):.6f}")""",
    ),
    (
        "md",
        """\
## The spectrum against the regularisation weight

With the penalty, the eigenvalues are the roots of `μ² − γμ + f'(0)²`; with consensus they are
`γ f'(0)² ± i f'(0)`. Once `Re λ > 0`, Lemma 11 gives a stable step and Theorem 2 a best one:""",
    ),
    (
        "code",
        """\
for gamma in (0.1, 0.3, 1.0):
    r1 = zoo.dirac_gan(gradient_penalty=gamma)
    lam_r1 = np.linalg.eigvals(np.asarray(games.jacobian(r1, w_star)))
    cons_jac = jax.jacfwd(lambda w: ops.consensus_field(plain, w, gamma=gamma))(w_star)
    lam_c = np.linalg.eigvals(np.asarray(cons_jac))
    print(f"γ = {gamma}: penalty λ = {lam_r1.round(4)}, η < {float(theory.max_stable_step(lam_r1)):.3f};"
          f"  consensus λ = {lam_c.round(4)}, η < {float(theory.max_stable_step(lam_c)):.3f}")""",
    ),
    (
        "md",
        """\
## Runs and rates

Consensus optimization from near the equilibrium converges at the rate its spectral radius
predicts (Theorem 1): the rate fitted to the iterates matches `ρ(∇F(ω*))`.""",
    ),
    (
        "code",
        """\
gamma, eta = 1.0, 0.5
op = ops.consensus(plain, eta=eta, gamma=gamma)
states = ops.iterate(op, ops.initial_state(op, w_star + 1e-3), 200)
d = ops.distances(op, states, w_star)
print(f"ρ(∇F) = {radius(op):.6f}, fitted rate = {float(ops.fitted_rate(d, burn_in=20)):.6f}")
lam_c = np.linalg.eigvals(np.asarray(jax.jacfwd(lambda w: ops.consensus_field(plain, w, gamma=gamma))(w_star)))
print(f"Theorem 2 for the consensus spectrum: η_best = {float(theory.optimal_step_size(lam_c).eta):.4f},"
      f" ρ = {float(theory.optimal_step_size(lam_c).rho):.6f}")
print("at η_best, the operator's ρ =", round(radius(ops.consensus(plain, eta=float(theory.optimal_step_size(lam_c).eta), gamma=gamma)), 6))""",
    ),
    (
        "md",
        """\
Vector fields and trajectories (the flow drawn is the descent direction): without regularisation
simultaneous steps spiral out and alternating steps cycle; the gradient penalty and consensus
both pull the iterates in. Right: the eigenvalues of ∇v at ω* against the weight γ.""",
    ),
    ("code", 'figures.render("dirac_gan", figures.compute("dirac_gan", n_grid=21, n_weights=41))'),
    (
        "md",
        """\
## Lecture Fig. 2: why not just minimise ½‖v‖²?

On a 2-D zero-sum game with several stationary points (`zoo.sine_game`), the field v
attracts only the local Nash equilibrium (green); the other four stationary points (red) are
saddles of the flow (∇v has one eigenvalue with positive and one with negative real part), so
they are not attractive (hollow). The conservative field `−∇½‖v‖²` makes *every* stationary point
attractive (filled), including the bad ones, and adds zeros of its own (diamonds: critical points
of ½‖v‖² where v ≠ 0). The combined field of consensus optimization keeps the good point
attractive and the bad ones saddles.""",
    ),
    ("code", 'figures.render("fields", figures.compute("fields", n_grid=25))'),
    (
        "code",
        """\
r1 = zoo.by_name("dirac_gan_r1")
from spectra.bounds import game_eigenvalues

report = bounds_report(game_eigenvalues(r1))
print("Dirac-GAN with penalty 0.3:", report["step_size"], report["momentum"], sep="\\n")""",
    ),
]


PROBE = [
    (
        "md",
        """\
# Probing a trained GAN: the spectrum that governs its training

`spectra probe` (and `spectra.probe` in Python) restores a checkpoint, rebuilds the exact game
that was being optimised (the same losses, on the evaluation batch saved with the run) and
computes, at that point: the top eigenvalues of the game Jacobian ∇v, of each player's Hessian,
and of the update operator ∇F the run used, with what the theory (Lemma 11, Theorems 2–4) says
about them. Here: a small saturating GAN on a mixture of 8 Gaussians, trained with *negative*
discriminator momentum (β_D = −0.5) and alternating updates, as in the negative-momentum paper.""",
    ),
    (
        "code",
        """\
%matplotlib inline
%config InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "dpi": 72}
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from spectra import games
from spectra.gan import game_at, get_config
from spectra.gan.train import train
from spectra.probe import probe_checkpoint, probe_run, run_path_angle
from spectra.probe.report import spectrum_figure, trajectory_figure""",
    ),
    (
        "code",
        """\
config = get_config("mog8").replace(
    name="notebook-negative", d_beta=-0.5, hidden=24, steps=2000, checkpoint_every=500,
    eval_every=500, eval_batch_size=256,
)
run = Path(tempfile.mkdtemp()) / "negative"
train(config, run, progress=False)
print(sorted(p.name for p in run.iterdir()))""",
    ),
    (
        "md",
        """\
## One checkpoint

This game has under 2,000 parameters, so the probe builds the dense Jacobian and uses its whole
spectrum (larger models are probed matrix-free, with forward-over-reverse products). Every
eigenvalue comes with its relative residual. We check the top of the spectrum against the
eigenvalues of the autodiff Jacobian of the same game, computed here independently.""",
    ),
    (
        "code",
        """\
r = probe_checkpoint(run, k=8, progress=False)  # the latest step, the run's own update rule
lm = r.jacobian["LM"]
print("top |λ| of ∇v:", np.round(lm.values[:4], 4))
print("largest relative residual:", f"{lm.residuals.max():.1e}")

game = game_at(run, 2000)
dense = np.linalg.eigvals(np.asarray(games.jacobian(game, game.point())))
top = dense[np.argsort(-np.abs(dense))][:8]
assert np.allclose(np.sort(np.abs(top)), np.sort(np.abs(lm.values)), rtol=1e-4)
print("ρ(∇F) of the run's update (alternating heavy ball):", round(r.update_spectral_radius, 4))""",
    ),
    (
        "md",
        """\
What the theory says at this point: Lemma 11's largest stable step, Theorem 2's best step and
its rate, Theorem 4's interval I(λ) for the limiting eigenvalues, and a recommended (η, β) next
to the configuration that was used. When some eigenvalue has Re λ ≤ 0 the theorems' assumption
fails, and the summary says so instead of printing a rate.""",
    ),
    ("code", 'print(r.advice["summary"])'),
    ("code", 'spectrum_figure(r, title="step 2000, β_D = −0.5")'),
    (
        "md",
        """\
## Over training

`probe_run` probes every checkpoint (the compiled products are shared); the trajectory figure
follows the eigenvalues of ∇v, the players' Hessians and ρ(∇F) over the steps.""",
    ),
    (
        "code",
        """\
results = probe_run(run, k=8, progress=False)
steps = [step for step, _ in results]
for step, res in results:
    print(step, "ρ(∇F) =", round(res.update_spectral_radius, 3))
trajectory_figure(steps, [res for _, res in results], title="β_D = −0.5")""",
    ),
    (
        "md",
        """\
On this seed ρ(∇F) > 1 at every checkpoint: the run is not at a stable stationary point, ∇v has
eigenvalues with Re λ ≤ 0, and the summary above says that Lemma 11 and Theorems 2 and 4 do not
apply there, rather than printing a rate. The paper's claim for negative momentum is about
averages over runs; `spectra grid` trains the (η, β) grid over several seeds.""",
    ),
    (
        "md",
        """\
## The path-angle (Berard et al., ICLR 2020)

Along the straight line ω_α from one checkpoint (α = 0) to another (α = 1), the cosine between
the vector field v(ω_α) and the line. Berard et al. read the dynamics from the shape of this
curve: a sign change where the line passes the minimum of a potential (v = ∇f), and a bump near
zero around the end point when the game rotates there.""",
    ),
    (
        "code",
        """\
pa = run_path_angle(run, 1500, 2000, alphas=np.linspace(-0.5, 1.5, 41))
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(pa.alphas, pa.cosine)
ax.axhline(0, color="grey", lw=0.5)
ax.set(xlabel="α (0: step 1500, 1: step 2000)", ylabel="cos(v, ω₁ − ω₀)", title="path-angle");""",
    ),
    (
        "md",
        """\
## The whole spectrum: traces and densities (as PyHessian)

The probe finds the *top* eigenvalues. `spectra density` (here `player_density`, in Python) looks
at all of them at once, as PyHessian does for a network's loss: Hutchinson's estimator gives a
player's Hessian trace from products with random ±1 vectors, and stochastic Lanczos quadrature
(Ghorbani et al. 2019) gives its eigenvalue density: each Lanczos run from a random vector is a
Gauss quadrature of the spectrum, and a few runs smoothed by narrow Gaussians estimate the whole
density from a few hundred products. The players' Hessians here are small enough to check both
against their exact eigenvalues, smoothed with the same Gaussians.""",
    ),
    (
        "code",
        """\
from spectra.density import density as smoothed_density
from spectra.density import SLQResult
from spectra.plots.density import spectral_density
from spectra.probe import player_density

w = game.point()
exact = dict(zip(("phi", "theta"), games.player_hessians(game, w)))
grids, densities, notes = {}, {}, {}
for player, hessian in exact.items():
    rec = player_density(game, w, player=player, probes=8, steps=40, trace_samples=64)
    eigs = np.linalg.eigvalsh(np.asarray(hessian))
    trace = rec["trace"]
    assert abs(trace["value"] - eigs.sum()) <= 4 * trace["stderr"]  # Hutchinson, unbiased
    scale = np.abs(eigs).max()  # the extreme Ritz values have converged (Kaniel–Paige)
    assert abs(rec["slq"]["max_node"] - eigs[-1]) <= 1e-6 * scale
    assert abs(rec["slq"]["min_node"] - eigs[0]) <= 1e-6 * scale
    # the exact density with the same Gaussians: every eigenvalue a node of weight 1/n
    n = eigs.size
    truth = SLQResult(eigs[None], np.full((1, n), 1 / n), np.array([n]), n, products=0)
    reference = smoothed_density(truth, rec["grid"], sigma=rec["sigma"])
    name = f"{player} (n={rec['n']})"
    grids[name], densities[name] = rec["grid"], rec["density"]
    notes[name] = f"trace {trace['value']:.3g} ± {trace['stderr']:.2g} (exact {eigs.sum():.3g})"
    print(f"{name}: {rec['products']} products; SLQ nodes in [{rec['slq']['min_node']:.4f}, "
          f"{rec['slq']['max_node']:.4f}], exact eigenvalues in [{eigs[0]:.4f}, {eigs[-1]:.4f}]")
    plt.figure(figsize=(5, 2.5))
    plt.semilogy(rec["grid"], rec["density"], label="SLQ (8 probes × 40 steps)")
    plt.semilogy(rec["grid"], reference, "--", label="exact eigenvalues, same smoothing")
    plt.ylim(1e-6, None); plt.xlabel("eigenvalue"); plt.title(name); plt.legend(fontsize=7)
spectral_density(grids, densities, notes=notes, title="Hessian eigenvalue densities, step 2000")""",
    ),
    (
        "md",
        """\
The extreme Ritz values converge first (Kaniel–Paige), so the outliers, which govern the step
size, sit where the exact ones are after 40 steps, while the bulk is resolved only on average:
the SLQ density is an estimate whose error falls with more probes, not a histogram.""",
    ),
]


NOTEBOOKS = {
    "theory.ipynb": THEORY,
    "bilinear.ipynb": BILINEAR,
    "dirac_gan.ipynb": DIRAC,
    "probe.ipynb": PROBE,
}


def build(cells) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [new_markdown_cell(s) if k == "md" else new_code_cell(s) for k, s in cells]
    return nb


def execute(nb: nbformat.NotebookNode, *, timeout: int = 300) -> nbformat.NotebookNode:
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    ).execute()
    return nb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to build (default: all)")
    parser.add_argument("--no-run", action="store_true", help="write without executing")
    args = parser.parse_args()
    for name in args.names or NOTEBOOKS:
        nb = build(NOTEBOOKS[name])
        if not args.no_run:
            execute(nb)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
