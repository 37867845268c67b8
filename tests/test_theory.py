"""The closed forms of spectra.theory held against the real operators' autodiff Jacobians, brute
force and finite differences (never against themselves)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from spectra import operators, theory, zoo
from spectra.theory.momentum import _momentum_step_bound
from spectra.theory.optimal_momentum import _optimal_momentum
from spectra.theory.step_size import _optimal_step_size

RNG = np.random.default_rng(20190101)


def random_eigenvalues(m, *, rng=RNG, max_arg=1.5, both_signs=True):
    """m eigenvalues with Re λ > 0, |Arg λ| < max_arg, Im of either sign."""
    arg = rng.uniform(0 if not both_signs else -max_arg, max_arg, m)
    return rng.uniform(0.1, 3.0, m) * np.exp(1j * arg)


def match(a, b):
    """Largest distance between two multisets of complex numbers under the best matching."""
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    assert a.shape == b.shape
    cost = np.abs(a[:, None] - b[None, :])
    rows, cols = linear_sum_assignment(cost)
    return cost[rows, cols].max()


@functools.partial(jax.jit, static_argnames="method")
def operator_spectrum(game, eta, beta, method="momentum"):
    """Eigenvalues of the dense autodiff Jacobian of the real operator at its fixed point."""
    if method == "momentum":
        op = operators.momentum(game, eta=eta, beta=beta)
    else:
        op = operators.simultaneous(game, eta=eta)
    return operators.spectrum(op, operators.fixed_point_state(op, game.point()))


# -- Theorem 3 ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_theorem3_is_the_spectrum_of_the_momentum_jacobian(seed):
    rng = np.random.default_rng(seed)
    lam = rng.normal(size=4) * 2 + 1j * rng.normal(size=4) * 2  # any sign of Re λ: Thm 3 holds
    game = zoo.with_spectrum(lam, key=jax.random.PRNGKey(seed))
    etas = rng.uniform(0.01, 2.0, 12)
    betas = rng.uniform(-0.95, 0.95, 12)
    got = jax.vmap(lambda e, b: operator_spectrum(game, e, b))(etas, betas)
    both = np.concatenate([lam, np.conj(lam)])
    mu_p, mu_m = theory.momentum_eigenvalues(both[None, :], eta=etas[:, None], beta=betas[:, None])
    assert mu_p.shape == (12, 8)
    for k in range(12):
        predicted = np.concatenate([mu_p[k], mu_m[k]])
        assert match(predicted, got[k]) < 1e-8
        rate = theory.momentum_spectral_radius(lam, eta=etas[k], beta=betas[k])
        assert abs(rate - np.abs(got[k]).max()) < 1e-9


def test_theorem3_labelling_is_the_papers():
    """μ₊ = s(1 + Δ^{1/2})/2 with the root of positive real part, computed literally."""
    lam = random_eigenvalues(500)
    eta, beta = RNG.uniform(0.01, 2, 500), RNG.uniform(-0.99, 0.99, 500)
    s = 1 - eta * lam + beta
    delta = 1 - 4 * beta / s**2
    root = np.sqrt(delta)  # numpy: the principal root, Re >= 0
    mu_p, mu_m = theory.momentum_eigenvalues(lam, eta=eta, beta=beta)
    np.testing.assert_allclose(mu_p, s * (1 + root) / 2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mu_m, s * (1 - root) / 2, rtol=1e-8, atol=1e-10)
    assert np.all(np.abs(mu_p) >= np.abs(mu_m))
    np.testing.assert_allclose(
        theory.momentum_rate(lam, eta=eta, beta=beta), np.abs(mu_p), rtol=1e-12
    )


@pytest.mark.parametrize("beta", [-0.36, 0.25])
def test_theorem3_at_s_zero(beta):
    """s = 1 − ηλ + β = 0: Δ is undefined but the eigenvalues are ±√(−β)."""
    lam = 2.0
    eta = (1 + beta) / lam
    mu_p, mu_m = theory.momentum_eigenvalues(lam, eta=eta, beta=beta)
    root = np.sqrt(complex(-beta))
    assert np.isfinite(mu_p) and np.isfinite(mu_m)
    assert abs(mu_p - root) < 1e-15 and abs(mu_m + root) < 1e-15
    got = operator_spectrum(zoo.with_spectrum([lam]), eta, beta)
    assert match([mu_p, mu_m, mu_p, mu_m], got) < 1e-7


@pytest.mark.parametrize("s_sign", [1.0, -1.0])
def test_theorem3_negative_real_delta_branch(s_sign):
    """Δ < 0 real (real λ, s² < 4β): the footnote's Δ^{1/2} := i√(−Δ)."""
    beta = 0.5
    s = s_sign * 0.6  # s² = 0.36 < 4β = 2
    lam = 1.5
    eta = (1 + beta - s) / lam
    delta = 1 - 4 * beta / s**2
    assert delta < 0
    mu_p, mu_m = theory.momentum_eigenvalues(lam, eta=eta, beta=beta)
    expected_p = s * (1 + 1j * np.sqrt(-delta)) / 2
    expected_m = s * (1 - 1j * np.sqrt(-delta)) / 2
    assert abs(mu_p - expected_p) < 1e-14 and abs(mu_m - expected_m) < 1e-14
    got = operator_spectrum(zoo.with_spectrum([lam]), eta, beta)
    assert match([mu_p, mu_m, mu_p, mu_m], got) < 1e-7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_momentum_rate_in_exact_regimes(dtype):
    """Two regimes where both roots have the same modulus, known exactly: real λ with
    s² < 4β (complex pair, |μ| = √β, the footnote's branch), and η = (1 + β)/Re λ with β < 0
    and (η Im λ)² ≤ −4β (s purely imaginary, |μ| = √(−β))."""
    rng = np.random.default_rng(5)
    lam = rng.uniform(0.1, 3, 1000).astype(dtype)
    beta = rng.uniform(0.05, 0.95, 1000).astype(dtype)
    s = (2 * rng.uniform(-1, 1, 1000) * np.sqrt(beta)).astype(dtype)
    eta = ((1 + beta - s) / lam).astype(dtype)
    keep = eta > 0
    rate = theory.momentum_rate(lam[keep], eta=eta[keep], beta=beta[keep])
    tol = 4 * np.finfo(dtype).eps
    assert rate.dtype == dtype
    np.testing.assert_allclose(rate, np.sqrt(beta[keep]), rtol=tol)
    psi = rng.uniform(0.05, 1.5, 1000)
    lam = rng.uniform(0.1, 3, 1000) * np.exp(1j * psi)
    beta = -rng.uniform(0.01, 0.95, 1000)
    eta = (1 + beta) / lam.real
    keep = (eta * lam.imag) ** 2 <= -4 * beta
    rate = theory.momentum_rate(
        lam[keep].astype(np.complex128 if dtype == np.float64 else np.complex64),
        eta=eta[keep].astype(dtype),
        beta=beta[keep].astype(dtype),
    )
    assert keep.sum() > 100
    np.testing.assert_allclose(rate, np.sqrt(-beta[keep]), rtol=50 * tol)


def test_theorem3_float32():
    lam = random_eigenvalues(64).astype(np.complex64)
    eta, beta = np.float32(0.3), np.float32(-0.2)
    mu_p, mu_m = theory.momentum_eigenvalues(lam, eta=eta, beta=beta)
    assert mu_p.dtype == jnp.complex64 and mu_m.dtype == jnp.complex64
    ref_p, ref_m = theory.momentum_eigenvalues(lam.astype(np.complex128), eta=0.3, beta=-0.2)
    np.testing.assert_allclose(mu_p, ref_p, atol=2e-6)
    np.testing.assert_allclose(mu_m, ref_m, atol=2e-6)
    assert theory.momentum_rate(lam, eta=eta, beta=beta).dtype == jnp.float32


def test_theorem3_under_jit_and_vmap():
    lam = random_eigenvalues(5)
    f = jax.jit(jax.vmap(lambda e: theory.momentum_eigenvalues(lam, eta=e, beta=-0.3)))
    mu_p, _ = f(jnp.array([0.1, 0.2]))
    ref, _ = theory.momentum_eigenvalues(lam, eta=0.2, beta=-0.3)
    np.testing.assert_allclose(mu_p[1], ref, rtol=1e-13)


# -- Theorem 2 ------------------------------------------------------------------------------


def test_theorem2_against_brute_force():
    for _ in range(20):
        m = int(RNG.integers(1, 7))
        lam = random_eigenvalues(m)
        res = theory.optimal_step_size(lam)
        c1 = np.min(np.real(1 / lam))
        etas = np.linspace(0, 2.5 * c1, 200_001)[1:]
        sweep = np.abs(1 - etas[:, None] * lam[None, :]).max(axis=1)
        i = sweep.argmin()
        assert res.rho <= sweep[i] + 1e-13
        assert abs(res.eta - etas[i]) <= 2 * (etas[1] - etas[0])
        assert abs(res.rho - np.abs(1 - res.eta * lam).max()) < 1e-14


def test_theorem2_bounds_on_thousands_of_spectra():
    batch = np.stack([random_eigenvalues(5) for _ in range(3000)])
    batch[::3, 1] = np.conj(batch[::3, 0])  # some conjugate pairs
    res = jax.vmap(theory.optimal_step_size)(jnp.asarray(batch))
    eps = 1e-12
    lo, hi = res.eta_bounds
    assert np.all(lo - eps <= res.eta) and np.all(res.eta <= hi + eps)
    lo2, hi2 = res.rho_squared_bounds
    rho2 = res.rho**2
    assert np.all(lo2 - eps <= rho2) and np.all(rho2 <= hi2 + eps)
    # Tangent case (Fig. 2 left): η_best is the vertex Re(1/λ_k) of a limiting eigenvalue and
    # the lower bound is attained, ρ² = max_k sin²ψ_k; in particular when η_best = Re(1/λ₁),
    # ρ² = sin²ψ₁ (the "Particularly" of Theorem 2).
    t = np.asarray(res.tangent)
    assert 0 < t.sum() < t.size
    inv_re = np.real(1 / batch)
    eta = np.asarray(res.eta)[:, None]
    at_vertex = np.any(np.asarray(res.active) & (np.abs(inv_re - eta) <= 1e-12 * eta), axis=1)
    np.testing.assert_array_equal(at_vertex, t)
    np.testing.assert_allclose(rho2[t], lo2[t], rtol=1e-9, atol=1e-14)
    at_first = np.abs(res.eta - inv_re.min(axis=1)) <= 1e-12 * res.eta
    lam1 = batch[np.arange(len(batch)), inv_re.argmin(axis=1)]
    assert at_first.sum() > 100
    np.testing.assert_allclose(
        rho2[at_first], np.sin(np.angle(lam1[at_first])) ** 2, rtol=1e-9, atol=1e-14
    )
    # Independent optimality check: η_best ± 1e-7 is never better.
    for d in (-1e-7, 1e-7):
        other = np.abs(1 - (np.asarray(res.eta) + d)[:, None] * batch).max(axis=1)
        assert np.all(other >= np.asarray(res.rho) - 1e-14)


def test_theorem2_rho_is_the_spectral_radius_of_simultaneous_gd():
    lam = random_eigenvalues(4)
    res = theory.optimal_step_size(lam)
    game = zoo.with_spectrum(lam, key=jax.random.PRNGKey(3))
    got = operator_spectrum(game, res.eta, 0.0, method="simultaneous")
    assert abs(np.abs(got).max() - res.rho) < 1e-10


def test_theorem2_scales_to_a_thousand_eigenvalues():
    lam = RNG.uniform(0.05, 2, 1000) + 1j * RNG.normal(size=1000)
    res = theory.optimal_step_size(lam)
    lo, hi = res.eta_bounds
    etas = np.linspace(float(lo), float(hi), 20_001)
    sweep = np.abs(1 - etas[:, None] * lam[None, :]).max(axis=1)
    assert res.rho <= sweep.min() + 1e-14
    assert res.active.shape == (1000,) and res.active.sum() >= 1


def test_theorem2_tangent_and_cut_cases():
    # Fig. 2 left: one limiting eigenvalue (with its conjugate), η_best = Re(1/λ₁).
    lam = np.array([1 + 3j, 1 - 3j, 2.0])
    res = theory.optimal_step_size(lam)
    assert bool(res.tangent)
    np.testing.assert_array_equal(res.active, [True, True, False])
    assert abs(res.eta - 0.1) < 1e-15 and abs(res.rho**2 - 0.9) < 1e-14
    # Fig. 2 right: a large real eigenvalue cuts the circle; two pieces are equal at η_best.
    lam = np.array([1 + 3j, 30.0, 2 + 0.1j])
    res = theory.optimal_step_size(lam)
    assert not bool(res.tangent)
    np.testing.assert_array_equal(res.active, [True, True, False])
    np.testing.assert_array_equal(theory.limiting_eigenvalues(lam), res.active)
    q = np.abs(1 - res.eta * lam)
    assert abs(q[0] - q[1]) < 1e-14
    lo, hi = res.eta_bounds  # λ₁ = 30 here: Re(1/30) ≤ η_best ≤ 2 Re(1/30)
    assert abs(lo - 1 / 30) < 1e-15 and lo < res.eta < hi


# -- Lemma 11 -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_lemma11_stable_below_unstable_above(seed):
    rng = np.random.default_rng(seed)
    lam = random_eigenvalues(3, rng=rng)
    eta_max = float(theory.max_stable_step(lam))
    game = zoo.with_spectrum(lam, key=jax.random.PRNGKey(seed))
    w0 = game.point() + 0.1 * jax.random.normal(jax.random.PRNGKey(7), (game.n,))
    for factor, stable in ((0.99, True), (1.01, False)):
        eta = factor * eta_max
        radius = np.abs(operator_spectrum(game, eta, 0.0, method="simultaneous")).max()
        assert (radius < 1) == stable
        op = operators.simultaneous(game, eta=eta)
        steps = int(np.ceil(8 / abs(np.log(radius))))  # |log ρ|·steps = 8: e^{±8} ≈ 3e3
        dist = operators.distances(op, operators.iterate(op, w0, steps), game.point())
        if stable:
            assert dist[-1] < 1e-2 * dist[0]
        else:
            assert dist[-1] > 1e2 * dist[0]


# -- Theorem 4 ------------------------------------------------------------------------------


def rho_derivative_at_zero(lam, eta, h=1e-6):
    """Central difference of paper eq. 8's ρ_{λ,η}(β) = max|μ±|² at β = 0."""

    def rho(b):
        return np.asarray(theory.momentum_rate(lam, eta=eta, beta=b)) ** 2

    return (rho(h) - rho(-h)) / (2 * h)


def test_theorem4_interval_is_where_the_derivative_is_positive():
    lam = random_eigenvalues(4000)  # Im λ of both signs
    lo, hi = (np.asarray(x) for x in theory.momentum_interval(lam))
    eta = RNG.uniform(0.0, 1.5, lam.size) * hi + 1e-3
    margin = np.minimum(np.abs(eta - lo), np.abs(eta - hi)) / hi
    keep = margin > 1e-4
    positive = rho_derivative_at_zero(lam, eta) > 0
    inside = np.asarray(theory.is_in_interval(lam, eta=eta))
    np.testing.assert_array_equal(positive[keep], inside[keep])
    assert inside.any() and (~inside).any() and (lam.imag < 0).any()


def test_theorem4_paper_interval_needs_absolute_imaginary_part():
    """For Im λ < 0 the paper's literal I(λ) is empty, yet ρ'(0) > 0 on I(conj λ)."""
    lam = 1.0 - 2.0j
    r, a, b = abs(lam), lam.real, lam.imag
    literal = ((r - b) / (r * a), (r + b) / (r * a))
    assert literal[0] > literal[1]
    lo, hi = theory.momentum_interval(lam)
    mid = 0.5 * (lo + hi)
    assert rho_derivative_at_zero(lam, mid) > 0
    assert np.allclose((lo, hi), theory.momentum_interval(np.conj(lam)))


def test_theorem4_particular_claims():
    lam = random_eigenvalues(2000)
    inv_re = np.real(1 / lam)
    # ρ'_{λ, Re(1/λ)}(0) = 2 Re(λ) Re(1/λ): the paper's claim holds.
    # (z = 1 − ηλ is small for nearly real λ; the step must stay well below |z|², where β/z
    # would stop being the small root.)
    h = 1e-4 * np.minimum(1.0, np.abs(1 - inv_re * lam) ** 2)
    np.testing.assert_allclose(
        rho_derivative_at_zero(lam, inv_re, h), 2 * lam.real * inv_re, rtol=1e-6, atol=1e-9
    )
    # |Arg λ| ≥ π/4 ⇒ (Re(1/λ), 2 Re(1/λ)) ⊂ I(λ); checked through the derivative too.
    steep = np.abs(np.angle(lam)) >= np.pi / 4
    lo, hi = (np.asarray(x)[steep] for x in theory.momentum_interval(lam))
    assert np.all(lo <= inv_re[steep] * (1 + 1e-12)) and np.all(
        2 * inv_re[steep] <= hi * (1 + 1e-12)
    )
    for t in (1.01, 1.5, 1.99):
        assert np.all(rho_derivative_at_zero(lam[steep], t * inv_re[steep]) > 0)
    # The implication needs the angle: λ = 1 + 0.1i has 2 Re(1/λ) outside I(λ).
    assert 2 * np.real(1 / (1 + 0.1j)) > theory.momentum_interval(1 + 0.1j).hi


@pytest.mark.parametrize("lam", [1e-4 + 1j, 1e-6 + 1j, 1e-9 + 1j, 3e-3 - 2j])
def test_interval_lower_end_keeps_its_precision_for_nearly_imaginary_eigenvalues(lam):
    """``(|λ| − |Im λ|) / (|λ| Re λ)`` computed as written cancels for nearly imaginary λ (it gave
    0 for 1e-4 + 1j in float32); held against 50-digit decimal arithmetic."""
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    a, b = Decimal(lam.real), abs(Decimal(lam.imag))
    mod = (a * a + b * b).sqrt()
    exact_lo, exact_hi = float((mod - b) / (mod * a)), float((mod + b) / (mod * a))
    for dtype, rtol in ((np.complex128, 1e-14), (np.complex64, 1e-6)):
        lo, hi = theory.momentum_interval(dtype(lam))
        assert float(lo) == pytest.approx(exact_lo, rel=rtol)
        assert float(hi) == pytest.approx(exact_hi, rel=rtol)


@pytest.mark.parametrize(
    "dtype, scale",
    [(np.complex64, 1e-20), (np.complex64, 1e20), (np.complex128, 1e-200), (np.complex128, 1e200)],
)
def test_closed_forms_scale_with_the_spectrum_at_extreme_magnitudes(dtype, scale):
    """η scales as 1/|λ|, β and ρ not at all; |λ|² over- or underflows at these magnitudes
    (float32 gave η_best = 0, ρ = 1 at 1e20, and ρ = inf or NaN at 1e-20)."""
    lam = np.array([1 + 2j, 0.5 + 3j, 2.0])
    rtol = 1e-5 if dtype == np.complex64 else 1e-12
    scaled = (lam * scale).astype(dtype)
    step, ref = theory.optimal_step_size(scaled), theory.optimal_step_size(lam)
    assert float(step.eta) * scale == pytest.approx(float(ref.eta), rel=rtol)
    assert float(step.rho) == pytest.approx(float(ref.rho), rel=rtol)
    assert float(step.eta_bounds[1]) * scale == pytest.approx(float(ref.eta_bounds[1]), rel=rtol)
    assert float(theory.max_stable_step(scaled)) * scale == pytest.approx(
        float(theory.max_stable_step(lam)), rel=rtol
    )
    lo, hi = theory.momentum_interval(scaled)
    ref_lo, ref_hi = theory.momentum_interval(lam)
    assert np.allclose(np.asarray(lo) * scale, ref_lo, rtol=rtol, atol=0)
    assert np.allclose(np.asarray(hi) * scale, ref_hi, rtol=rtol, atol=0)
    best, ref_best = theory.optimal_momentum(scaled), theory.optimal_momentum(lam)
    assert float(best.rho) == pytest.approx(float(ref_best.rho), rel=1e-4)
    assert float(best.eta) * scale == pytest.approx(float(ref_best.eta), rel=1e-3)


def test_interval_intersection():
    lam = np.array([1 + 2j, 1 - 2j, 0.5 + 1.5j])
    lo, hi = theory.interval_intersection(lam)
    each = [theory.momentum_interval(x) for x in lam]
    assert lo == max(i.lo for i in each) and hi == min(i.hi for i in each)
    assert not theory.interval_intersection(lam).is_empty
    assert theory.interval_intersection([1.0, 1 + 1j]).is_empty  # a real λ: I(λ) is empty


# -- optimal momentum ----------------------------------------------------------------------


def test_optimal_momentum_beats_a_fine_brute_force_grid():
    radius = jax.jit(lambda lam, e, b: theory.momentum_spectral_radius(lam, eta=e, beta=b))
    for lam in [random_eigenvalues(3) for _ in range(4)] + [random_eigenvalues(3, max_arg=0.3)]:
        res = theory.optimal_momentum(lam)
        top = float(theory.momentum_step_bound(lam))
        E, B = np.meshgrid(np.linspace(top / 800, top, 800), np.linspace(-0.999, 0.999, 800))
        grid = np.asarray(radius(jnp.asarray(lam), E, B))
        assert res.rho <= grid.min() + 1e-12
        assert res.rho <= res.gd_rho + 1e-15
        assert (
            abs(res.rho - theory.momentum_spectral_radius(lam, eta=res.eta, beta=res.beta)) < 1e-15
        )


def test_optimal_momentum_single_eigenvalue_is_negative_and_longer():
    """Paper §3: for one non-real λ the optimal β is negative and η > Re(1/λ).

    Independently derived optimum (equal root moduli, μ₊μ₋ = β < 0, which forces
    1 + β = η Re λ and a double root): ρ* = tan(|ψ|/2), β* = −ρ*², η* = (1 + β*)/Re λ.
    The numerical optimiser must reach it to 1e-8."""
    lam = random_eigenvalues(48, max_arg=1.45)
    res = jax.vmap(lambda x: theory.optimal_momentum(x[None]))(jnp.asarray(lam))
    assert np.all(res.beta < 0)
    assert np.all(res.eta > np.real(1 / lam))
    assert np.all(res.rho < res.gd_rho)
    t = np.tan(np.abs(np.angle(lam)) / 2)
    np.testing.assert_allclose(res.rho, t, atol=1e-8)
    np.testing.assert_allclose(res.beta, -(t**2), atol=1e-6)
    np.testing.assert_allclose(res.eta, (1 - t**2) / lam.real, rtol=1e-6)


def test_optimal_momentum_single_real_eigenvalue():
    """Degenerate case of the paper's claim: for a real λ, β = 0 and η = 1/λ give ρ = 0."""
    res = theory.optimal_momentum([2.0])
    assert res.rho < 1e-12 and abs(res.beta) < 1e-10 and abs(res.eta - 0.5) < 1e-10


def test_optimal_momentum_recovers_polyak_heavy_ball():
    """Real spectrum in [μ, L]: the optimum is Polyak's η = 4/(√L+√μ)², β = ((√κ−1)/(√κ+1))²."""
    mu, L = 0.1, 10.0
    res = theory.optimal_momentum([mu, 1.0, L])
    k = np.sqrt(L / mu)
    assert abs(res.rho - (k - 1) / (k + 1)) < 1e-8
    assert abs(res.eta - 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2) < 1e-6
    assert abs(res.beta - ((k - 1) / (k + 1)) ** 2) < 1e-6


def test_optimal_momentum_rate_is_the_operator_spectral_radius():
    lam = random_eigenvalues(3)
    res = theory.optimal_momentum(lam)
    game = zoo.with_spectrum(lam, key=jax.random.PRNGKey(11))
    got = operator_spectrum(game, res.eta, res.beta)
    # the optimum sits where roots collide: a defective double eigenvalue, accurate to ~√eps
    assert abs(np.abs(got).max() - res.rho) < 1e-6


def test_optimal_momentum_merges_conjugates():
    lam = random_eigenvalues(3)
    a = theory.optimal_momentum(lam)
    b = theory.optimal_momentum(np.concatenate([lam, np.conj(lam), lam]))
    assert float(a.rho) == float(b.rho)


# -- compilation: spectra are padded to a power-of-two length --------------------------------


def test_nearby_sizes_share_one_compilation():
    """Sizes 5, 6, 7 are padded to one length: one compilation of each solver, not three."""
    _optimal_step_size.clear_cache()
    _optimal_momentum.clear_cache()
    for m in (5, 6, 7):
        lam = random_eigenvalues(m)
        theory.optimal_step_size(lam)
        theory.optimal_momentum(lam)
    assert _optimal_step_size._cache_size() == 1
    assert _optimal_momentum._cache_size() == 1


def assert_same_leaves(got, ref):
    for g, r in zip(jax.tree.leaves(got), jax.tree.leaves(ref), strict=True):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(r))


def test_padding_changes_no_result():
    """The public functions pad the spectrum by repeating an eigenvalue; the jitted solvers on
    the spectrum as given (the code before padding) must agree bit for bit, in float64: the
    bounds, ``active``, ``tangent``, the momentum optimum, and fewer (m < 8), exactly 8 and more
    (m > 8) eigenvalues than the polish looks at."""
    rng = np.random.default_rng(7)
    spectra = [
        scale * random_eigenvalues(m, rng=rng)
        for m in (2, 5, 8, 9, 13)
        for scale in (1 / 30, 1, 30)  # so that no fixed padding value could go unnoticed
        for _ in range(3)
    ]
    spectra += [
        np.array([1 + 3j, 1 - 3j, 2.0]),  # Fig. 2 left (tangent)
        np.array([1 + 3j, 2 + 0.1j, 30.0]),  # Fig. 2 right (cut), the padded entry limiting
        np.array([2 + 0.1j, 30.0, 1 + 3j]),  # cut, the other limiting entry padded
    ]
    fill = [2 + 0.1j, 2.5 - 0.2j, 3 + 0.3j, 1.5 + 0.05j, 2.2, 2.7 + 0.15j, 1.8 - 0.1j]
    spectra += [np.array(fill + [1 + 3j, 30.0]), np.array(fill + [30.0, 1 + 3j])]  # m = 9, cut
    assert any(bool(theory.optimal_step_size(lam).tangent) for lam in spectra)
    assert not all(bool(theory.optimal_step_size(lam).tangent) for lam in spectra)
    for lam in spectra:
        got = theory.optimal_step_size(lam)
        assert got.active.shape == lam.shape
        assert_same_leaves(got, _optimal_step_size(jnp.asarray(lam)))
    for _ in range(3):
        lam = random_eigenvalues(5, rng=rng)
        lam[-1] = np.conj(lam[0])  # merged to 4 distinct eigenvalues, padded to 8
        merged = theory.merge_conjugates(lam)
        gd = _optimal_step_size(merged)
        ref = _optimal_momentum(merged, gd.eta, gd.rho, _momentum_step_bound(merged))
        assert_same_leaves(theory.optimal_momentum(lam), ref)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: theory.momentum_eigenvalues(1.0, eta=0.0, beta=0.1), "eta"),
        (lambda: theory.momentum_eigenvalues(1.0, eta=-1.0, beta=0.1), "eta"),
        (lambda: theory.momentum_eigenvalues(1.0, eta=np.nan, beta=0.1), "eta"),
        (lambda: theory.momentum_eigenvalues(1.0, eta=0.1, beta=np.inf), "beta"),
        (lambda: theory.momentum_eigenvalues(np.nan, eta=0.1, beta=0.1), "lam"),
        (lambda: theory.momentum_eigenvalues([1.0, 2.0, 3.0], eta=[0.1, 0.2], beta=0), "shapes"),
        (lambda: theory.momentum_rate(1.0, eta=0.0, beta=0.1), "eta"),
        (lambda: theory.gd_rate([1.0, 2.0], eta=[0.1, 0.2, 0.3]), "shapes"),
        (lambda: theory.momentum_interval(-1.0 + 1j), "Re λ > 0"),
        (lambda: theory.momentum_interval(1j), "Re λ > 0"),
        (lambda: theory.optimal_step_size([1.0, -0.5 + 1j]), "Re λ > 0"),
        (lambda: theory.optimal_step_size([]), "empty"),
        (lambda: theory.optimal_step_size([[1.0, 2.0]]), "1-D"),
        (lambda: theory.optimal_step_size([1.0, np.inf]), "finite"),
        (lambda: theory.max_stable_step([2j]), "Lemma 11"),
        (lambda: theory.max_stable_step([]), "empty"),
        (lambda: theory.optimal_momentum([0.0]), "Re λ > 0"),
        (lambda: theory.optimal_momentum([1.0], n_grid=2), "n_grid"),
        (lambda: theory.interval_intersection([1 + 1j, -1.0]), "Theorem 4"),
        (lambda: theory.momentum_spectral_radius([1.0], eta=0.1, beta=np.nan), "beta"),
        (lambda: theory.gd_spectral_radius([1.0], eta=-0.1), "eta"),
    ],
)
def test_bad_input_raises(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_traced_invalid_assumptions_give_nan_not_garbage():
    lam = jnp.array([1.0 + 1j, -0.5 + 0.0j])
    res = jax.jit(theory.optimal_step_size)(lam)
    assert np.isnan(res.eta) and np.isnan(res.rho)
    assert np.all(np.isnan(jax.jit(theory.momentum_interval)(lam).lo[1:]))
    assert np.isnan(jax.jit(theory.max_stable_step)(lam))


# -- Theorem 2's bounds are the paper's, and tight ------------------------------------------------


def test_theorem2_bounds_are_eq4_as_written():
    """eq. 4 evaluated literally from the paper's definitions (λ sorted by Re(1/λ), δ, ψ_k), in
    NumPy: each reported bound must be that value, not merely some valid bound."""
    for _ in range(200):
        lam = random_eigenvalues(int(RNG.integers(1, 7)))
        res = theory.optimal_step_size(lam)
        ordered = lam[np.argsort(np.real(1 / lam))]
        c1 = np.real(1 / ordered[0])
        delta = np.min(np.abs(ordered) ** 2 * (2 * np.real(1 / ordered) - c1))
        np.testing.assert_allclose(res.eta_bounds, (c1, 2 * c1), rtol=1e-13)
        lower = np.max(np.sin(np.angle(ordered)) ** 2)
        np.testing.assert_allclose(
            res.rho_squared_bounds, (lower, 1 - c1 * delta), rtol=1e-12, atol=1e-14
        )


def test_theorem2_bounds_are_attained():
    """Both ρ² bounds meet ρ² for one eigenvalue (and its conjugate), and η_best approaches
    2 Re(1/λ₁) for a real spectrum [ε, 1] (η_best = 2/(1 + ε)): a looser bound fails here."""
    for lam in ([0.3 + 2j], [0.3 + 2j, 0.3 - 2j], [1.5 + 0.2j], [2.0]):
        res = theory.optimal_step_size(lam)
        rho2 = float(res.rho) ** 2
        assert res.rho_squared_bounds[0] == pytest.approx(rho2, abs=1e-12)
        assert res.rho_squared_bounds[1] == pytest.approx(rho2, abs=1e-12)
        assert float(res.eta) == pytest.approx(float(res.eta_bounds[0]), rel=1e-12)
    res = theory.optimal_step_size([1e-6, 1.0])
    assert float(res.eta) == pytest.approx(2 / (1 + 1e-6), rel=1e-12)
    assert float(res.eta_bounds[1]) == pytest.approx(float(res.eta), rel=2e-6)


# -- the heavy-ball step bound: necessary, and tight for a real λ --------------------------------


def test_momentum_step_bound_is_necessary_and_tight_for_real_eigenvalues():
    radius = jax.jit(lambda lam, e, b: theory.momentum_spectral_radius(lam, eta=e, beta=b))
    betas = np.linspace(-0.999, 0.999, 4001)
    for lam in (random_eigenvalues(3), random_eigenvalues(2, max_arg=0.2), np.array([1.7])):
        bound = float(theory.momentum_step_bound(lam))
        above = np.asarray(radius(jnp.asarray(lam + 0j), 1.0001 * bound, betas))
        assert above.min() >= 1.0  # no β stabilises a step beyond the bound
    # λ real: η λ < 2 + 2β is the condition, so just below 4/λ a β near 1 is stable
    lam = np.array([1.7 + 0j])
    bound = float(theory.momentum_step_bound(lam))
    assert bound == pytest.approx(4 / 1.7, rel=1e-15)
    assert float(radius(jnp.asarray(lam), 0.995 * bound, 0.995)) < 1.0


# -- real hyperparameters, numeric spectra -------------------------------------------------------


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: theory.momentum_eigenvalues(1 + 1j, eta=0.1 + 0.1j, beta=0.0), "eta: .*real"),
        (lambda: theory.momentum_eigenvalues(1 + 1j, eta=0.1, beta=0.2j), "beta: .*real"),
        (lambda: theory.momentum_rate(1 + 1j, eta=0.1, beta=0.2j), "beta: .*real"),
        (lambda: theory.gd_rate(1 + 1j, eta=0.1j), "eta: .*real"),
        (lambda: theory.is_in_interval(1 + 1j, eta=1j), "eta: .*real"),
        (lambda: theory.momentum_spectral_radius([1.0], eta=0.1, beta=1j), "beta: .*real"),
        (lambda: theory.optimal_step_size(["a"]), "eigenvalues: expected numbers"),
        (lambda: theory.max_stable_step([[1.0], [2.0, 3.0]]), "eigenvalues: expected numbers"),
        (
            lambda: jax.jit(lambda b: theory.momentum_rate(1.0, eta=0.1, beta=b))(0.1j),
            "beta: .*real",
        ),
    ],
)
def test_complex_hyperparameters_and_non_numbers_are_refused(call, word):
    """A complex β gave μ± of a different polynomial silently (or a TypeError from copysign)."""
    with pytest.raises(ValueError, match=word):
        call()


def test_bounds_report_says_whether_eta_best_is_inside_the_intersection():
    """Paper §3: with a single limiting λ and |Arg λ| ≥ π/4, η_best = Re(1/λ) ∈ I(λ); for the
    README's spectrum ∩I(λ) is not empty yet misses η_best (checked from the intervals)."""
    from spectra.bounds import bounds_report

    inside = bounds_report([0.3 + 2j])["momentum_intervals"]
    assert inside["intersection"] is not None and inside["eta_best_inside"] is True
    report = bounds_report([1 + 2j, 0.5 + 3j])
    lo, hi = report["momentum_intervals"]["intersection"]
    eta_best = report["step_size"]["eta_best"]
    assert not lo < eta_best < hi
    assert report["momentum_intervals"]["eta_best_inside"] is False
