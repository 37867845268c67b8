"""The probe against numerics: matrix-free spectra vs dense autodiff Jacobians, Theorem 3 vs the
JVP of the real update step, minibatch sums vs full batches, the path-angle by hand, bad input."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectra import games, operators, zoo
from spectra.games import Game
from spectra.probe import (
    StreamedOperator,
    UpdateRule,
    path_angle,
    probe_game,
    split_batch,
    streamed_vector_field,
    summed_game,
    theory_advice,
)
from spectra.probe.report import spectrum_figure, summary_lines, trajectory_figure, write_json
from spectra.probe.update import UpdateOperatorProducts, theorem3_spectrum

# -- a tiny MLP GAN, defined here as a Game from two losses --------------------------------------


def _mlp(params, x):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


def _losses():
    def loss_d(phi, theta, data):
        real, latent = data["real"], data["latent"]
        fake = _mlp(theta, latent)
        return jnp.mean(jax.nn.softplus(-_mlp(phi, real))) + jnp.mean(
            jax.nn.softplus(_mlp(phi, fake))
        )

    def loss_g(phi, theta, data):
        return -jnp.mean(jax.nn.softplus(_mlp(phi, _mlp(theta, data["latent"]))))

    return loss_d, loss_g


LOSS_D, LOSS_G = _losses()


def tiny_gan(*, seed=0, hidden=5, latent=2, samples=64, dtype=jnp.float64) -> Game:
    """A saturating GAN on 1-D data: generator latent→hidden→1, discriminator 1→hidden→1."""
    rng = np.random.default_rng(seed)

    def layer(a, b):
        return rng.normal(size=(a, b)) / np.sqrt(a), 0.1 * rng.normal(size=b)

    gw1, gb1 = layer(latent, hidden)
    gw2, gb2 = layer(hidden, 1)
    dw1, db1 = layer(1, hidden)
    dw2, db2 = layer(hidden, 1)
    theta = {"w1": gw1, "b1": gb1, "w2": gw2, "b2": gb2}
    phi = {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
    data = {
        "real": np.where(rng.random((samples, 1)) < 0.5, 2.0, -2.0) + rng.normal(size=(samples, 1)),
        "latent": rng.normal(size=(samples, latent)),
    }
    cast = lambda t: jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype), t)  # noqa: E731
    return Game(LOSS_D, LOSS_G, cast(phi), cast(theta), cast(data), name="tiny-gan")


@pytest.fixture(scope="module")
def gan():
    return tiny_gan()


@pytest.fixture(scope="module")
def dense_eigs(gan):
    jac = np.asarray(games.jacobian(gan, gan.point()))
    return np.linalg.eigvals(jac)


def _top(values, which, k):
    key = {
        "LM": -np.abs(values),
        "LR": -values.real,
        "SR": values.real,
        "LI": -np.abs(values.imag),
    }[which]
    return values[np.lexsort((-values.real, -values.imag, key))][:k]


def _match(a, b):
    """Largest distance from a value of ``a`` to the nearest value of ``b``, relative to max|b|."""
    a, b = np.asarray(a), np.asarray(b)
    d = np.abs(a[:, None] - b[None, :]).min(axis=1)
    return d.max() / np.abs(b).max()


# -- 1. matrix-free ∇v against the dense autodiff Jacobian ----------------------------------------


@pytest.fixture(scope="module", params=["krylov", "arpack"])
def matrix_free(gan, request):
    return probe_game(
        gan,
        k=4,
        which=("LM", "LR", "SR", "LI"),
        dense_max=0,
        progress=False,
        ncv=30,
        solver=request.param,
    )


@pytest.mark.parametrize("which", ["LM", "LR", "SR", "LI"])
def test_matrix_free_jacobian_matches_dense(matrix_free, dense_eigs, which):
    spec = matrix_free.jacobian[which]
    assert spec.method == matrix_free.settings["method"]
    assert spec.converged.all(), spec.residuals
    expected = _top(dense_eigs, which, 4)
    scale = np.abs(dense_eigs).max()
    # the k selected values, in order; a conjugate pair split at k is represented by Im > 0
    got = spec.values
    assert np.allclose(np.abs(got.imag), np.abs(expected.imag), atol=1e-8 * scale)
    assert np.allclose(got.real, expected.real, atol=1e-8 * scale)
    assert spec.residuals.max() < 1e-9


def test_hessians_match_dense_blocks(gan, matrix_free):
    h_phi, h_theta = games.player_hessians(gan, gan.point())
    for player, block in (("phi", h_phi), ("theta", h_theta)):
        spec = matrix_free.hessians[player]
        expected = _top(np.linalg.eigvalsh(np.asarray(block)).astype(complex), "LM", 4)
        assert np.allclose(spec.values, expected, atol=1e-10 * np.abs(expected).max())
        assert np.all(spec.values.imag == 0)


def test_concurrent_solves_give_the_same_numbers_as_solves_in_turn(gan):
    """Solves run side by side in threads (each ``which`` shares one operator) give bit-identical
    eigenvalues, residuals and per-spectrum product counts to solves run one after another."""
    opts = {"k": 4, "which": ("LM", "LR", "SR", "LI"), "dense_max": 0, "progress": False}
    both = [probe_game(gan, **opts, ncv=30, concurrent=c) for c in (True, False)]
    spectra = [[*r.jacobian.values(), *r.hessians.values()] for r in both]
    assert len(spectra[0]) == 6
    for a, b in zip(*spectra, strict=True):
        assert (a.operator, a.which) == (b.operator, b.which)
        np.testing.assert_array_equal(a.values, b.values)
        np.testing.assert_array_equal(a.residuals, b.residuals)
        assert a.n_products == b.n_products > 0
    assert both[0].n_products == both[1].n_products


def test_a_failed_concurrent_solve_stops_the_others_and_raises():
    import threading
    import time

    from spectra.probe import core

    bar = core._Progress(False, 3)
    stopped = threading.Event()
    start = time.perf_counter()

    def endless():  # a long solve making products (10 s unless it is stopped)
        try:
            while time.perf_counter() - start < 10.0:
                bar.product(1)
                time.sleep(0.001)
        finally:
            stopped.set()

    def failing():
        time.sleep(0.05)
        raise ValueError("operator: the product returned non-finite values")

    with pytest.raises(ValueError, match="non-finite"):
        core._run_concurrently({("jacobian", "LM"): endless, ("hessian", "phi"): failing}, bar)
    assert stopped.is_set() and time.perf_counter() - start < 5.0


def test_dense_probe_returns_the_whole_spectrum(gan, dense_eigs):
    result = probe_game(gan, k=4, which="LM,LI", hessians=False, progress=False)
    assert result.jacobian["LM"].method == "dense"
    assert result.jacobian_full.size == gan.n
    assert _match(result.jacobian_full, dense_eigs) < 1e-10
    assert _match(dense_eigs, result.jacobian_full) < 1e-10
    assert np.allclose(result.jacobian["LI"].values, _top(dense_eigs, "LI", 4), atol=1e-10)


# -- 2. the update operator: the JVP of the real step against Theorem 3 ---------------------------


def test_update_jvp_matches_theorem3_for_simultaneous_momentum(gan, dense_eigs):
    rule = UpdateRule(eta=0.3, beta=-0.4)
    products = UpdateOperatorProducts(gan, gan.point(), rule)
    jac_f = products.matmat(np.eye(products.n))
    # the matrix from JVPs of operators.momentum is that operator's own autodiff Jacobian
    op = operators.momentum(gan, eta=0.3, beta=-0.4)
    state = operators.fixed_point_state(op, gan.point())
    assert np.allclose(jac_f, np.asarray(operators.jacobian(op, state)), atol=1e-12)
    mu = np.linalg.eigvals(jac_f)
    predicted = theorem3_spectrum(dense_eigs, eta=0.3, beta=-0.4)
    assert _match(mu, predicted) < 1e-8
    assert _match(predicted, mu) < 1e-8


def test_probe_update_spectrum_theorem3_and_arpack_agree(gan):
    rule = UpdateRule(eta=0.3, beta=-0.4)
    closed = probe_game(gan, k=4, which="LM", hessians=False, update=rule, progress=False)
    assert closed.update.method == "theorem3"
    free = probe_game(
        gan,
        k=4,
        which="LM",
        hessians=False,
        update=UpdateRule(eta=(0.3, 0.3 + 1e-15), beta=-0.4),
        dense_max=0,
        progress=False,
        ncv=40,
    )
    assert free.update.method == "krylov"
    assert free.update.converged.all()
    assert abs(free.update.spectral_radius - closed.update.spectral_radius) < 1e-8


def test_alternating_update_is_not_theorem3(gan):
    """Alternating updates change the spectrum (Gidel et al. 2019, Table 1): the probe must use
    the real step, whose radius differs from Theorem 3's."""
    alt = probe_game(
        gan,
        k=4,
        which="LM",
        hessians=False,
        progress=False,
        update=UpdateRule(eta=0.3, beta=-0.4, alternating=True),
    )
    sim = probe_game(
        gan, k=4, which="LM", hessians=False, progress=False, update=UpdateRule(eta=0.3, beta=-0.4)
    )
    assert alt.update.method == "dense"
    op = operators.momentum(gan, eta=0.3, beta=-0.4, alternating=True)
    state = operators.fixed_point_state(op, gan.point())
    rho = float(operators.spectral_radius(op, state))
    assert abs(alt.update.spectral_radius - rho) < 1e-10
    assert abs(alt.update.spectral_radius - sim.update.spectral_radius) > 1e-6


# -- 3. minibatches: sums of products equal full-batch products -----------------------------------


@pytest.mark.parametrize(
    ("kind", "linearize", "minibatch", "n_chunks"),
    [("game", True, 24, 3), ("game", False, 24, 3), ("phi", False, 32, 2), ("theta", True, 32, 2)],
)
def test_minibatch_products_equal_full_batch(gan, kind, linearize, minibatch, n_chunks):
    w = gan.point()
    full = StreamedOperator(gan, w, kind=kind, linearize=linearize)
    parts = StreamedOperator(gan, w, kind=kind, minibatch=minibatch, linearize=linearize)
    assert len(parts.chunks) == n_chunks  # 64 = 24 + 24 + 16 or 32 + 32
    rng = np.random.default_rng(1)
    t = rng.normal(size=full.n)
    assert np.allclose(parts.matvec(t), full.matvec(t), rtol=1e-12, atol=1e-13)
    if kind == "game":
        ts = rng.normal(size=(full.n, 3))
        assert np.allclose(parts.matmat(ts), full.matmat(ts), rtol=1e-12, atol=1e-13)
        reference = np.asarray(games.jvp(gan, w, jnp.asarray(t)))
        assert np.allclose(full.matvec(t), reference, rtol=1e-12, atol=1e-13)


def test_shared_residuals_store_repeats_once_and_give_the_same_products(gan):
    from spectra.probe import products

    w = gan.point()
    linear = products._linearize("game", products.anonymous(gan), w)
    shared = products.SharedResiduals(linear)
    leaves = jax.tree_util.tree_leaves(linear)
    assert len(shared.unique) < len(leaves)  # a GAN's linearisation repeats residuals
    assert shared.nbytes < sum(x.nbytes for x in leaves)
    for x, i in zip(leaves, shared.index, strict=True):
        shape = shared.shapes[i]  # uniform residuals are held as one scalar
        held = shared.unique[i] if shape is None else np.broadcast_to(shared.unique[i], shape)
        np.testing.assert_array_equal(x, held)
    t = jnp.asarray(np.random.default_rng(2).normal(size=gan.n))
    np.testing.assert_allclose(shared(t), linear(t), rtol=1e-13, atol=1e-14)
    ts = jnp.asarray(np.random.default_rng(3).normal(size=(gan.n, 2)))
    np.testing.assert_allclose(shared.columns(ts)[:, 1], linear(ts[:, 1]), rtol=1e-13, atol=1e-14)
    # arrays of the same shape and sum stay apart
    a, b = jnp.asarray([1.0, 0.0, 0.0, 1.0]), jnp.asarray([0.0, 1.0, 1.0, 0.0])
    twins = products.SharedResiduals(jax.tree_util.Partial(lambda x, y, t: x * t + y, a, b))
    assert len(twins.unique) == 2
    assert twins.shapes == (None, None)


def test_shared_residuals_hold_uniform_arrays_as_scalars():
    from spectra.probe import products

    def affine(x, y, t):
        return x * t + y

    t = jnp.asarray([1.0, 2.0, 3.0, 4.0])
    for y, uniform in (
        (jnp.full(4, 3.0), True),
        (jnp.zeros(4), True),
        (jnp.asarray([3.0, 3.0, 3.0, 3.5]), False),
        (jnp.asarray([np.nan] * 4), False),  # NaN ≠ NaN: never folded
    ):
        x = jnp.asarray([1.0, -1.0, 2.0, 0.5])
        shared = products.SharedResiduals(jax.tree_util.Partial(affine, x, y))
        assert (shared.shapes[1] == (4,)) is uniform
        assert shared.nbytes == x.nbytes + (y.dtype.itemsize if uniform else y.nbytes)
        np.testing.assert_array_equal(shared(t), affine(x, y, t))
        np.testing.assert_array_equal(shared.columns(t[:, None])[:, 0], affine(x, y, t))


def test_summed_game_and_streamed_field_equal_full_batch(gan):
    w = gan.point()
    v = np.asarray(games.vector_field(gan, w))
    assert np.allclose(np.asarray(streamed_vector_field(gan, w, minibatch=24)), v, atol=1e-13)
    summed = summed_game(gan, 24)
    assert len(summed.data) == 3
    assert np.allclose(np.asarray(games.vector_field(summed, w)), v, atol=1e-13)


def test_minibatch_probe_matches_full_probe(gan):
    a = probe_game(gan, k=3, which="LM", hessians=False, dense_max=0, progress=False)
    b = probe_game(gan, k=3, which="LM", hessians=False, dense_max=0, progress=False, minibatch=24)
    assert np.allclose(a.jacobian["LM"].values, b.jacobian["LM"].values, atol=1e-10)


def test_split_batch_rejects_inconsistent_leaves():
    with pytest.raises(ValueError, match="leading"):
        split_batch({"a": np.zeros((4, 1)), "b": np.zeros((5, 1))}, 2)
    with pytest.raises(ValueError, match="minibatch"):
        split_batch({"a": np.zeros((4, 1))}, 0)


class _Part:
    """A stand-in for a dispatched array: records when it is waited on."""

    def __init__(self, value, log, name):
        self.value, self.log, self.name = value, log, name

    def __rmul__(self, weight):
        return _Part(weight * self.value, self.log, self.name)

    def __add__(self, other):
        return _Part(self.value + other.value, self.log, other.name)

    def block_until_ready(self):
        self.log.append(("wait", self.name))
        return self


def test_weighted_sum_is_exact_and_keeps_at_most_one_minibatch_queued():
    from spectra.probe.products import AHEAD, weighted_sum

    log = []

    def compute(i):
        log.append(("run", i))
        return _Part(float(i), log, i)

    chunks = [(0.5, 0), (0.25, 1), (0.25, 2), (1.0, 3)]
    total = weighted_sum(chunks, compute)
    assert total.value == 0.5 * 0 + 0.25 * 1 + 0.25 * 2 + 1.0 * 3
    # before minibatch i is dispatched, the sum up to i − 1 − AHEAD has finished
    for i in range(len(chunks)):
        done = {name for kind, name in log[: log.index(("run", i))] if kind == "wait"}
        assert done == set(range(max(i - AHEAD, 0)))
    with pytest.raises(ValueError, match="chunks"):
        weighted_sum([], compute)


# -- 4. the path-angle by hand ---------------------------------------------------------------------


def test_path_angle_on_the_scalar_bilinear_game():
    """v(φ, θ) = (θ, −φ) for L_φ = θφ. From ω₀ = (1, 0) to ω₁ = (0, 1): d = (−1, 1),
    ω_α = (1 − α, α), v = (α, α − 1), ⟨v, d⟩ = −1, so cos = −1 / (√2 √(α² + (1 − α)²))."""
    game = zoo.scalar_bilinear()
    v = np.asarray(games.vector_field(game, jnp.array([1.0, 0.0])))
    assert np.allclose(v, [0.0, -1.0])  # the sign convention the hand computation uses
    alphas = np.array([-0.5, 0.0, 0.25, 0.5, 1.0, 1.5])
    pa = path_angle(game, jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), alphas=alphas)
    expected = -1.0 / (np.sqrt(2.0) * np.sqrt(alphas**2 + (1 - alphas) ** 2))
    assert np.allclose(pa.cosine, expected, atol=1e-14)
    assert np.allclose(pa.dot, -1.0 / np.sqrt(2.0), atol=1e-14)
    assert np.allclose(pa.norm, np.sqrt(alphas**2 + (1 - alphas) ** 2), atol=1e-14)
    assert pa.cosine[3] == pytest.approx(-1.0)  # at the closest point to the equilibrium


def test_path_angle_crosses_zero_at_a_minimum():
    """A potential game (v = ∇f): the cosine flips sign where the line passes the minimum."""
    game = zoo.quadratic_from_jacobian(np.diag([1.0, 2.0]), 1)
    pa = path_angle(game, jnp.array([-1.0, 0.0]), jnp.array([1.0, 0.0]), alphas=[0.1, 0.5, 0.9])
    assert pa.cosine[0] == pytest.approx(-1.0)
    assert pa.cosine[2] == pytest.approx(1.0)
    assert abs(pa.dot[1]) < 1e-12


# -- 5. the theory's advice against brute force ----------------------------------------------------


def test_advice_eta_best_matches_a_grid_search():
    lam = np.array([1 + 2j, 1 - 2j, 0.5 + 0.1j, 0.5 - 0.1j, 3.0])
    out = theory_advice(lam, UpdateRule(eta=0.1, beta=-0.2), complete=True)
    etas = np.linspace(1e-4, 1.0, 200001)
    rho = np.abs(1 - etas[:, None] * lam[None]).max(axis=1)
    assert out["theorem2"]["eta_best"] == pytest.approx(etas[rho.argmin()], abs=1e-4)
    assert rho.min() - 1e-6 <= out["theorem2"]["rho"] <= rho.min() + 1e-12  # never worse
    assert out["lemma11"]["max_stable_step"] == pytest.approx(etas[rho < 1].max(), abs=1e-4)
    assert out["recommended"]["rho"] <= out["theorem2"]["rho"] + 1e-12


def test_advice_reports_a_violated_assumption():
    out = theory_advice(np.array([1.0 + 1j, -0.5]))
    assert not out["assumption"]["holds"]
    assert "theorem2" not in out
    assert "do not apply" in out["summary"]


def test_advice_from_a_partial_spectrum_does_not_claim_the_assumption_holds():
    lam = np.array([2.0 + 1j, 2.0 - 1j, 1.5])  # all Re λ > 0, but only the largest were probed
    partial = theory_advice(lam, which=("LM",))
    assert partial["assumption"]["holds"] is None
    assert "not checked" in partial["summary"] and "lower bound" in partial["summary"]
    checked = theory_advice(lam, which=("LM", "SR"))
    assert checked["assumption"]["holds"] is True
    assert "not checked" not in checked["summary"]
    assert "lower bound" not in theory_advice(lam, complete=True)["summary"]
    violated = theory_advice(np.array([2.0, -0.1]), which=("LM",))  # a probed value violates it
    assert violated["assumption"]["holds"] is False


def test_advice_counts_null_directions_and_reports_the_measured_radius():
    lam = np.array([1.0 + 0.5j, 1.0 - 0.5j, 1e-9, 0.0])
    out = theory_advice(lam, UpdateRule(eta=0.1, beta=-0.2), complete=True, update_radius=1.02)
    assert out["null_directions"]["count"] == 2
    assert "2 null directions" in out["summary"]
    assert out["used"]["update_spectral_radius"] == pytest.approx(1.02)
    assert "ρ(∇F) = 1.020000" in out["summary"] and "does not converge" in out["summary"]
    assert (
        "converges locally" in theory_advice(lam, UpdateRule(eta=0.1), update_radius=0.9)["summary"]
    )


def test_a_dense_spectrum_counts_its_products_once(gan):
    result = probe_game(gan, k=2, which="LM,LR,SR", hessians=False, advice=False, progress=False)
    counts = [result.jacobian[w].n_products for w in ("LM", "LR", "SR")]
    assert counts == [gan.n, 0, 0]  # one n×n matrix serves every selection
    assert result.n_products == gan.n


def test_the_largest_k_runs_matrix_free(gan):
    result = probe_game(
        gan, k=gan.n - 2, which="LM", hessians=False, advice=False, dense_max=0, progress=False
    )
    assert result.jacobian["LM"].method == "krylov"
    assert result.jacobian["LM"].values.size == gan.n - 2


# -- 6. bad input and failures ---------------------------------------------------------------------


def test_bad_k_and_which(gan):
    with pytest.raises(ValueError, match="k: expected k < n - 1"):
        probe_game(gan, k=gan.n - 1, progress=False)
    with pytest.raises(ValueError, match="which: unknown selection 'XX'"):
        probe_game(gan, k=2, which="LM,XX", progress=False)
    with pytest.raises(ValueError, match="w: expected finite"):
        probe_game(gan, np.full(gan.n, np.nan), k=2, progress=False)


@pytest.mark.parametrize(
    "options",
    [{}, {"dense_max": 0}, {"dense_max": 0, "solver": "arpack"}],
    ids=["dense", "krylov", "arpack"],
)
def test_a_finite_point_with_a_nan_field_is_named(options):
    # finite parameters, but the square root of negative numbers: the field and every product
    # are NaN
    def loss(p, t):
        return jnp.sum(jnp.sqrt(p["x"])) + jnp.sum(p["x"] * t["y"])

    game = Game(
        loss,
        lambda p, t: -loss(p, t),
        {"x": -jnp.ones(4)},
        {"y": jnp.ones(4)},
        None,
        zero_sum=True,
    )
    with pytest.raises(ValueError, match="w: the vector field is not finite at this point"):
        probe_game(game, k=2, which="LM", advice=False, progress=False, **options)


def test_arpack_failure_keeps_what_converged(gan):
    result = probe_game(
        gan,
        k=6,
        which="SR",
        hessians=False,
        dense_max=0,
        maxiter=1,
        ncv=8,
        tol=1e-14,
        progress=False,
    )
    assert not result.ok
    assert "jacobian (SR)" in result.errors[0]
    assert ".result" not in result.errors[0]  # read by CLI users too: no Python attribute
    spec = result.jacobian["SR"]
    assert spec.error is not None
    assert spec.values.size == spec.residuals.size == spec.converged.size
    line = next(x for x in summary_lines(result) if "∇v SR" in x)
    assert f"/{6} converged" in line  # against the 6 asked for, even when fewer came back


def test_json_and_figures(gan, tmp_path):
    result = probe_game(
        gan, k=3, which="LM,LI", progress=False, update=UpdateRule(eta=(0.2, 0.1), beta=(-0.3, 0.5))
    )
    path = write_json(tmp_path / "probe.json", {"step": 0, **result.to_dict()})
    loaded = json.loads(path.read_text())
    assert loaded["n"] == gan.n
    assert len(loaded["jacobian"]["LM"]["residuals"]) == 3
    assert loaded["update"]["method"] == "dense"
    fig = spectrum_figure(result)
    assert len(fig.axes) == 3
    assert len(trajectory_figure([0, 1], [result, result]).axes) >= 3
