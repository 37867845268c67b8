"""optax's heavy-ball SGD is exactly the paper's eq. 5, for any β in (−1, 1)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from spectra.gan.optim import make_optimizer


def _quadratic_grad(params):
    # a non-symmetric linear field on a pytree, so iterates do not collapse to a trivial pattern
    a, b = params["a"], params["b"]
    return {"a": jnp.array([[2.0, 1.0], [-1.0, 0.5]]) @ a + b.sum(), "b": 0.3 * b - a[0]}


def _heavy_ball(params, *, eta, beta, steps):
    """Hand-written eq. 5: ω_{t+1} = ω_t − η v(ω_t) + β(ω_t − ω_{t−1}), with ω_{−1} = ω_0."""
    prev, cur, out = params, params, []
    for _ in range(steps):
        g = _quadratic_grad(cur)
        nxt = jax.tree_util.tree_map(
            lambda w, w_prev, gw: w - eta * gw + beta * (w - w_prev), cur, prev, g
        )
        prev, cur = cur, nxt
        out.append(cur)
    return out


@pytest.mark.parametrize("beta", [-0.9, -0.5, 0.0, 0.3, 0.8])
def test_optax_sgd_is_paper_eq5(beta):
    eta = 0.07
    params = {"a": jnp.array([1.0, -2.0]), "b": jnp.array([0.5, 0.25, -1.0])}
    expected = _heavy_ball(params, eta=eta, beta=beta, steps=12)
    tx = make_optimizer("sgd", lr=eta, beta=beta)
    state, w = tx.init(params), params
    for want in expected:
        updates, state = tx.update(_quadratic_grad(w), state, w)
        w = optax.apply_updates(w, updates)
        for leaf, ref in zip(
            jax.tree_util.tree_leaves(w), jax.tree_util.tree_leaves(want), strict=True
        ):
            np.testing.assert_allclose(leaf, ref, rtol=1e-12, atol=1e-12)
    # and the iterates really moved (a test that could fail)
    assert not np.allclose(w["a"], params["a"])


def test_traced_hyperparameters_match_concrete_ones():
    params = {"a": jnp.array([1.0, -2.0]), "b": jnp.array([0.5, 0.25, -1.0])}

    def run(eta, beta):
        tx = make_optimizer("sgd", lr=eta, beta=beta)
        state, w = tx.init(params), params
        for _ in range(5):
            updates, state = tx.update(_quadratic_grad(w), state, w)
            w = optax.apply_updates(w, updates)
        return w

    traced = jax.jit(run)(0.1, -0.5)
    concrete = run(0.1, -0.5)
    np.testing.assert_allclose(traced["b"], concrete["b"], rtol=1e-12)


def test_adam_accepts_negative_b1():
    tx = make_optimizer("adam", lr=0.01, beta=-0.5)
    params = {"a": jnp.ones(3)}
    updates, _ = tx.update({"a": jnp.ones(3)}, tx.init(params), params)
    assert np.all(np.isfinite(updates["a"]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 0.0, "beta": 0.0}, "step size"),
        ({"lr": -1.0, "beta": 0.0}, "step size"),
        ({"lr": 0.1, "beta": 1.0}, r"\(-1, 1\)"),
        ({"lr": 0.1, "beta": -1.0}, r"\(-1, 1\)"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_optimizer("sgd", **kwargs)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="sgd, adam"):
        make_optimizer("rmsprop", lr=0.1, beta=0.0)
