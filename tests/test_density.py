"""Hutchinson's trace and stochastic Lanczos quadrature held against dense linear algebra."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from spectra import density
from spectra.matvecs import MatrixFreeOperator
from spectra.plots import spectral_density


def _with_spectrum(eigenvalues, seed=0):
    """A dense symmetric matrix with the given eigenvalues (random orthogonal eigenvectors)."""
    lam = np.asarray(eigenvalues, dtype=float)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam.size, lam.size)))
    a = (q * lam) @ q.T
    return (a + a.T) / 2


def _random_symmetric(n, seed=0):
    b = np.random.default_rng(seed).standard_normal((n, n))
    return (b + b.T) / (2 * np.sqrt(n))  # spectral norm ~ 1: powers stay of order 1


def test_gauss_quadrature_is_exact_up_to_degree_2m_minus_1():
    """m Lanczos steps give the m-point Gauss rule of the measure Σ (uᵢᵀq)² δ(t − λᵢ): exact
    for every power p ≤ 2m − 1 (Golub & Meurant, Thm 6.2), and not beyond."""
    n, m = 40, 6
    a = _random_symmetric(n)
    v = np.random.default_rng(1).standard_normal(n)
    alpha, beta = density.lanczos(a, v, steps=m)
    assert alpha.shape == (m,) and beta.shape == (m - 1,) and np.all(beta > 0)
    theta, y = np.linalg.eigh(np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1))
    tau = y[0] ** 2
    q = v / np.linalg.norm(v)
    power = q.copy()
    for p in range(2 * m + 1):
        exact = q @ power  # qᵀ A^p q
        rule = np.sum(tau * theta**p)
        if p <= 2 * m - 1:
            assert rule == pytest.approx(exact, rel=1e-10, abs=1e-12), p
        else:  # degree 2m: the rule's error is a positive multiple of a 2m-th derivative
            assert abs(rule - exact) > 1e-6 * abs(exact)
        power = a @ power


def test_full_lanczos_gives_the_exact_eigenvalues():
    n = 30
    a = _random_symmetric(n, seed=2)
    result = density.slq(a, probes=2, steps=n)
    assert result.steps.tolist() == [n, n]
    exact = np.linalg.eigvalsh(a)
    for row in result.nodes:
        np.testing.assert_allclose(row, exact, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, rtol=1e-12)
    assert result.products == 2 * n


def test_breakdown_on_repeated_eigenvalues_gives_each_once_with_its_multiplicity():
    """λ = 1, 2, 3, ten times each: the Krylov space of any start has dimension 3, so Lanczos
    stops after 3 products; a Rademacher start puts exactly 10/30 of its norm in each
    eigenspace of a diagonal matrix, so the weights are exactly the multiplicities / n."""
    d = np.repeat([1.0, 2.0, 3.0], 10)
    result = density.slq(np.diag(d), probes=3, steps=20)
    assert result.steps.tolist() == [3, 3, 3]
    assert result.nodes.shape == (3, 3)
    np.testing.assert_allclose(result.nodes, np.tile([1.0, 2.0, 3.0], (3, 1)), atol=1e-12)
    np.testing.assert_allclose(result.weights, 1 / 3, atol=1e-12)


def test_slq_moments_average_to_the_normalised_traces_of_powers():
    """(1/n_v) Σ_l Σ_k τ θ^p estimates tr(A^p)/n (Ubaru et al. 2017), within a few standard
    errors of the probe mean, on a matrix of known spectrum."""
    lam = np.concatenate([np.linspace(-0.5, 0.5, 70), [2.0, 3.0, -1.5]])
    a = _with_spectrum(lam, seed=3)
    result = density.slq(a, probes=40, steps=8, seed=4)
    powers = np.arange(1, 6)
    per_probe = (result.weights[None] * result.nodes[None] ** powers[:, None, None]).sum(-1)
    stderr = per_probe.std(axis=1, ddof=1) / np.sqrt(result.nodes.shape[0])
    exact = np.array([np.mean(lam**p) for p in powers])
    estimate = density.spectral_moments(result, powers)
    np.testing.assert_allclose(estimate, per_probe.mean(axis=1), rtol=1e-12)
    assert np.all(np.abs(estimate - exact) <= 4 * stderr), (estimate, exact, stderr)
    assert np.all(stderr > 0)


def test_density_integrates_to_one_and_has_the_quadrature_mean():
    a = _with_spectrum(np.concatenate([np.zeros(30), np.linspace(1, 2, 20), [10.0]]), seed=5)
    result = density.slq(a, probes=5, steps=15)
    grid, sigma = density.default_grid(result)
    assert sigma == pytest.approx(0.01 * (result.nodes.max() - result.nodes.min()))
    phi = density.density(result, grid, sigma=sigma)
    assert phi.shape == grid.shape and np.all(phi >= 0)
    assert np.trapezoid(phi, grid) == pytest.approx(1.0, abs=1e-8)
    mean = np.trapezoid(grid * phi, grid)  # a Gaussian keeps each node's mean
    assert mean == pytest.approx(density.spectral_moments(result, [1])[0], rel=1e-8)
    # the outlier at 10 holds 1/51 of the mass: visible on the grid, as in Ghorbani et al.
    near = np.abs(grid - 10.0) < 5 * sigma
    assert np.trapezoid(phi[near], grid[near]) == pytest.approx(1 / 51, rel=0.5)


def test_hutchinson_trace_within_stderr_and_its_variance_formula():
    rng = np.random.default_rng(6)
    n = 20
    a = rng.standard_normal((n, n)) + 3 * np.eye(n)  # not symmetric
    est = density.hutchinson_trace(a, samples=4000, seed=7)
    assert est.samples == 4000 and est.values.shape == (4000,)
    assert abs(est.value - np.trace(a)) <= 4 * est.stderr
    sym = a + a.T
    variance = 0.5 * (np.sum(sym**2) - np.sum(np.diag(sym) ** 2))  # ½ Σ_{i≠j} (A_ij + A_ji)²
    assert est.values.var(ddof=1) == pytest.approx(variance, rel=0.1)


def test_hutchinson_is_exact_on_a_diagonal_matrix():
    d = np.random.default_rng(8).standard_normal(50)
    est = density.hutchinson_trace(np.diag(d), samples=3)
    np.testing.assert_allclose(est.values, d.sum(), rtol=1e-13)
    assert est.stderr == pytest.approx(0.0, abs=1e-13)


def test_every_operator_form_gives_the_same_numbers():
    """A dense array, a MatrixFreeOperator and a bare callable (with n) draw the same probes."""
    a = _random_symmetric(12, seed=9)
    free = MatrixFreeOperator(lambda x: a @ x, 12, np.float64, symmetric=True)
    results = [
        density.slq(op, probes=3, steps=5, seed=1, n=n)
        for op, n in ((a, None), (free, None), (lambda x: a @ x, 12))
    ]
    for other in results[1:]:
        np.testing.assert_allclose(other.nodes, results[0].nodes, rtol=1e-12)
    traces = [
        density.hutchinson_trace(op, samples=4, n=n).value for op, n in ((a, None), (free, 12))
    ]
    assert traces[0] == pytest.approx(traces[1], rel=1e-12)


def test_bad_input_names_the_argument():
    a = _random_symmetric(5)
    cases = [
        (lambda: density.slq(a, probes=0), "probes"),
        (lambda: density.slq(a, steps=0), "steps"),
        (lambda: density.lanczos(a, np.ones(5), steps=0), "steps"),
        (lambda: density.lanczos(a, np.zeros(5), steps=2), "start"),
        (lambda: density.lanczos(a, np.ones(4), steps=2), "start"),
        (lambda: density.hutchinson_trace(a, samples=0), "samples"),
        (lambda: density.hutchinson_trace(lambda x: x, n=0), "n"),
        (lambda: density.slq(lambda x: x), "n"),
        (lambda: density.slq(lambda x: x * np.nan, n=3), "non-finite"),
        (lambda: density.hutchinson_trace(lambda x: x * np.inf, n=3), "non-finite"),
        (lambda: density.slq(np.triu(a) + 1), "symmetric"),
        (lambda: density.slq(np.ones((2, 3))), "square"),
        (
            lambda: density.slq(MatrixFreeOperator(lambda x: a @ x, 5, np.float64)),
            "symmetric=False",
        ),
        (lambda: density.slq(a, seed=-1), "seed"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    result = density.slq(a, probes=1, steps=2)
    for sigma in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="sigma"):
            density.density(result, np.linspace(-1, 1, 5), sigma=sigma)
    with pytest.raises(ValueError, match="slq_result"):
        density.density((result.nodes, result.weights), np.zeros(3), sigma=1.0)


def test_density_figure_marks_the_top_eigenvalues():
    grid = np.linspace(-1, 3, 200)
    phi = np.exp(-(grid**2)) / np.sqrt(np.pi)
    fig = spectral_density(
        {"H": grid, "G": grid}, {"H": phi, "G": phi}, top={"H": [2.0, 2.5]}, notes={"H": "tr 1"}
    )
    assert isinstance(fig, Figure)
    ax_h, ax_g = fig.axes[:2]
    assert ax_h.get_yscale() == "log"
    marked = sorted(line.get_xdata()[0] for line in ax_h.get_lines()[1:])
    assert marked == [2.0, 2.5] and len(ax_g.get_lines()) == 1
    assert "tr 1" in ax_h.get_title()
    with pytest.raises(ValueError, match="densities"):
        spectral_density({"H": grid}, {"G": phi})


def test_a_float32_operator_keeps_a_float32_basis_and_float32_accuracy():
    """A float32 operator's Lanczos basis is float32: half the memory of a float64 one (traced
    by tracemalloc), while a full-length run still finds every eigenvalue, each once."""
    import tracemalloc

    n, steps = 4000, 50
    diagonal = np.linspace(-1.0, 2.0, n)

    def peak(dtype) -> int:
        d = diagonal.astype(dtype)
        op = MatrixFreeOperator(lambda x: d * np.asarray(x, dtype), n, dtype, symmetric=True)
        tracemalloc.start()
        density.slq(op, probes=1, steps=steps)
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    basis64 = 8 * n * steps
    assert peak(np.float32) < 0.7 * basis64 <= 0.7 * peak(np.float64)

    values = np.linspace(-1.0, 2.0, 30)
    a = _with_spectrum(values, seed=3).astype(np.float32)
    result = density.slq(a, probes=1, steps=30)
    nodes = result.nodes[0][result.weights[0] > 1e-8]
    np.testing.assert_allclose(nodes, values, atol=2e-5)
