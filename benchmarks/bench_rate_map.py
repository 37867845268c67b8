"""A ρ(η, β) map for 64 eigenvalues: jit/vmap against vectorised NumPy and dense eigenvalues.

The issue's benchmark: a ρ(η, β) map over a 1000 × 1000 grid for 64 eigenvalues of ∇v, computed
three ways, side by side in one process:

1. :func:`spectra.sweeps.rate_map` (paper Theorem 3's closed form, jit + vmap, chunked), float32;
2. the same formula in vectorised NumPy (float32, chunked over rows like the JAX driver), in two
   layouts (a loop over eigenvalues, or a 3-D broadcast), the faster one as the baseline;
3. per point, the dense eigenvalues of the augmented 2n × 2n Jacobian of heavy-ball momentum
   (paper eq. 6, n = 64 here: 32 conjugate pairs), LAPACK ``geev`` on float32 matrices, on a
   subsample of the grid, extrapolated to the full grid.

Both closed-form routes evaluate the 32 distinct eigenvalues up to conjugation (what
``rate_map`` does: the rate is conjugation-blind); the dense route works on the real 64 × 64 ∇v.
Reported: points per second, and the ratios (targets: ≥ 5× NumPy in float32, ≥ 10⁴× the dense
route). BLAS is limited to one thread (threadpoolctl); JAX uses its default CPU threads. Each timing
is the median of several repeats after a warm-up (compilation excluded). The machine may be
shared, so absolute numbers are noisy; the ratios are measured in the same run.

    python -m benchmarks.bench_rate_map [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from spectra import sweeps, theory, zoo  # noqa: E402
from spectra.games import jacobian  # noqa: E402

N_EIGENVALUES = 64


def spectrum(seed: int = 0) -> np.ndarray:
    """64 eigenvalues of ∇v with Re λ > 0: 32 random values and their conjugates."""
    rng = np.random.default_rng(seed)
    half = rng.uniform(0.1, 2.0, N_EIGENVALUES // 2) * np.exp(1j * rng.uniform(0, 1.4, 32))
    return np.concatenate([half, np.conj(half)])


def _numpy_rate_squared(a, b, eta, beta):
    """Paper Theorem 3's ``max(|μ₊|, |μ₋|)²`` in NumPy, the arithmetic of the JAX route
    (``spectra.theory``): ``(|s|² + |w| + 2|Re(s r̄)|)/4``, ``w = s² − 4β``, ``r = √w``."""
    x = 1 + beta - eta * a
    y = -eta * b
    u = (x - y) * (x + y) - 4 * beta
    v = 2 * x * y
    m = np.sqrt(u * u + v * v)
    t = np.sqrt(0.5 * (m + np.abs(u)))
    half = v / (2 * np.where(t > 0, t, 1))
    re = np.where(u >= 0, x * t + y * half, x * np.abs(half) + y * np.copysign(t, v))
    return 0.25 * (x * x + y * y + m + 2 * np.abs(re))


def numpy_rate_map(lam, etas, betas, chunk_rows: int, *, layout: str) -> np.ndarray:
    """The rate map in vectorised NumPy (float32), chunked over rows like the JAX driver.

    ``layout="loop"``: a loop over the eigenvalues, each step vectorised over the chunk;
    ``layout="broadcast"``: one ``(rows, len(etas), m)`` array per chunk, reduced over m.
    """
    a = np.real(lam).astype(np.float32)
    b = np.imag(lam).astype(np.float32)
    etas, betas = etas.astype(np.float32), betas.astype(np.float32)
    out = np.empty((betas.size, etas.size), np.float32)
    for start in range(0, betas.size, chunk_rows):
        beta = betas[start : start + chunk_rows, None]
        if layout == "loop":
            acc = np.zeros((beta.shape[0], etas.size), np.float32)
            for k in range(a.size):
                np.maximum(acc, _numpy_rate_squared(a[k], b[k], etas[None, :], beta), out=acc)
        else:
            r2 = _numpy_rate_squared(a, b, etas[None, :, None], beta[..., None])
            acc = r2.max(axis=-1)
        out[start : start + chunk_rows] = np.sqrt(acc)
    return out


def dense_rate(grad_v: np.ndarray, eta: float, beta: float) -> float:
    """ρ of paper eq. 6, ``[[(1 + β)I − η∇v, −βI], [I, 0]]``, by dense eigenvalues."""
    n = grad_v.shape[0]
    eye = np.eye(n, dtype=grad_v.dtype)
    jac = np.block([[(1 + beta) * eye - eta * grad_v, -beta * eye], [eye, np.zeros_like(eye)]])
    return float(np.abs(np.linalg.eigvals(jac)).max())


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(quick: bool = False) -> list[dict]:
    size = 200 if quick else 1000
    repeats = 3 if quick else 5
    n_dense = 12 if quick else 150
    lam = spectrum()
    top = float(theory.momentum_step_bound(lam))
    etas = np.linspace(top / size, top, size).astype(np.float32)
    betas = np.linspace(-0.95, 0.95, size).astype(np.float32)
    points = size * size
    chunk_rows = max(1, sweeps.DEFAULT_BUDGET // (size * lam.size))

    lam32 = jnp.asarray(lam, jnp.complex64)
    etas32, betas32 = jnp.asarray(etas), jnp.asarray(betas)

    def jax_route():
        return sweeps.rate_map(lam32, etas32, betas32).block_until_ready()

    merged = np.asarray(theory.merge_conjugates(lam))  # what rate_map evaluates (32 values)

    def numpy_loop():
        return numpy_rate_map(merged, etas, betas, chunk_rows, layout="loop")

    def numpy_broadcast():
        return numpy_rate_map(merged, etas, betas, chunk_rows, layout="broadcast")

    with warnings.catch_warnings():  # without x64, the zoo's float64 requests become float32
        warnings.simplefilter("ignore", UserWarning)
        game = zoo.with_spectrum(lam[: N_EIGENVALUES // 2], key=jax.random.PRNGKey(0))
        grad_v = np.asarray(jacobian(game, game.point()), np.float32)
    rng = np.random.default_rng(1)
    sample = rng.integers(0, size, (n_dense, 2))

    def dense_route():
        return [dense_rate(grad_v, float(etas[i]), float(betas[j])) for j, i in sample]

    with threadpool_limits(limits=1):
        jax_map = np.asarray(jax_route())  # warm-up: compiles
        numpy_map = numpy_loop()
        dense = np.asarray(dense_route())
        t_jax = _median_time(jax_route, repeats)
        t_loop = _median_time(numpy_loop, repeats)
        t_broadcast = _median_time(numpy_broadcast, repeats)
        t_numpy = min(t_loop, t_broadcast)  # the stronger NumPy layout is the baseline
        t_dense = _median_time(dense_route, max(1, repeats // 2)) / n_dense * points

    assert jax_map.dtype == np.float32 and jax_map.shape == (size, size)
    agree_numpy = float(np.abs(jax_map - numpy_map).max())
    agree_dense = float(np.abs(jax_map[sample[:, 0], sample[:, 1]] - dense).max())
    pps = {name: points / t for name, t in (("jax", t_jax), ("numpy", t_numpy), ("dense", t_dense))}
    grid = f"{size}×{size} grid, {lam.size} eigenvalues, float32"
    rows = [
        _row(
            "rate_map jit/vmap vs NumPy (points/s)",
            pps["jax"],
            pps["numpy"],
            5.0,
            f"{grid}; NumPy best of loop {points / t_loop:.3g}/s, broadcast "
            f"{points / t_broadcast:.3g}/s; max |Δ| {agree_numpy:.1e}",
        ),
        _row(
            "rate_map jit/vmap vs dense 2n×2n eig (points/s)",
            pps["jax"],
            pps["dense"],
            1e4,
            f"{grid}; dense on {n_dense} points, extrapolated; max |Δ| {agree_dense:.1e}",
        ),
    ]
    return rows


def _row(name: str, measured: float, baseline: float, target: float, note: str) -> dict:
    ratio = measured / baseline
    return {
        "name": name,
        "measured": measured,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "passed": bool(ratio >= target),
        "note": note,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 200 × 200 grid (seconds)")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick)
    print(f"{'name':52} {'measured':>11} {'baseline':>11} {'ratio':>9} {'target':>7} passed")
    for r in rows:
        print(
            f"{r['name']:52} {r['measured']:11.3g} {r['baseline']:11.3g} {r['ratio']:9.3g} "
            f"{r['target']:7.3g} {r['passed']}"
        )
        print(f"    {r['note']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
