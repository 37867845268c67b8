"""Run in a subprocess with 8 simulated CPU devices by tests/test_sharding.py.

Compares every sharded path with its single-device result and prints one JSON line.
"""

import json
import os
import sys

assert "--xla_force_host_platform_device_count=8" in os.environ.get("XLA_FLAGS", "")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from spectra import games, sharding, sweeps, theory, zoo  # noqa: E402


def main() -> dict:
    out = {"devices": jax.device_count()}
    rng = np.random.default_rng(0)
    lam = rng.uniform(0.1, 2, 12) + 1j * rng.uniform(-3, 3, 12)
    etas = np.linspace(0.01, 1.0, 37)
    betas = np.linspace(-0.9, 0.9, 29)  # not a multiple of 8: padding is exercised
    sharded = sweeps.rate_map(lam, etas, betas, chunk_rows=10, sharded=True)
    single = sweeps.rate_map(lam, etas, betas, chunk_rows=10, sharded=False)
    out["rate_map_max_abs_diff"] = float(jnp.max(jnp.abs(sharded - single)))
    out["rate_map_shape"] = list(sharded.shape)

    spectra = rng.uniform(0.1, 2, (21, 6)) + 1j * rng.uniform(-3, 3, (21, 6))
    e_sh, r_sh = sweeps.optimal_step_sizes(spectra, sharded=True)
    per_row = [theory.optimal_step_size(row) for row in spectra]
    out["step_sizes_eta_diff"] = float(np.max(np.abs(np.asarray(e_sh) - [r.eta for r in per_row])))
    out["step_sizes_rho_diff"] = float(np.max(np.abs(np.asarray(r_sh) - [r.rho for r in per_row])))

    # Data-parallel game-Jacobian products: batch split across devices, parameters replicated.
    def loss_phi(phi, theta, data):
        return jnp.mean(jnp.tanh(data @ phi) * (data @ theta)) + 0.1 * jnp.sum(phi**2)

    def loss_theta(phi, theta, data):
        return -jnp.mean(jnp.tanh(data @ phi) * (data @ theta)) + 0.1 * jnp.sum(theta**2)

    data = jnp.asarray(rng.normal(size=(64, 5)))
    game = games.Game(loss_phi, loss_theta, jnp.ones(5) * 0.3, jnp.ones(5) * -0.2, data=data)
    w = game.point()
    t = jnp.asarray(rng.normal(size=game.n))
    single_jvp = games.jvp(game, w, t)
    mesh = sharding.data_mesh()
    game_sh = game.with_data(sharding.shard_batch(data, mesh))
    jvp_sh = jax.jit(games.jvp)(game_sh, sharding.replicate(w, mesh), sharding.replicate(t, mesh))
    out["jvp_diff"] = float(jnp.max(jnp.abs(jvp_sh - single_jvp)))
    out["data_sharding"] = str(game_sh.data.sharding.spec)
    try:
        sharding.shard_batch(data[:60], mesh)
        out["indivisible_error"] = None
    except ValueError as err:
        out["indivisible_error"] = str(err)

    # The same eigenvalues from the sharded matrix-free operator.
    from spectra import eigensolvers

    eig_single = eigensolvers.eigenvalues(
        eigensolvers.game_jacobian_operator(game, w), k=3, which="LM"
    )
    eig_sharded = eigensolvers.eigenvalues(
        eigensolvers.game_jacobian_operator(game_sh, sharding.replicate(w, mesh)), k=3, which="LM"
    )
    out["eig_diff"] = float(np.max(np.abs(eig_single.values - eig_sharded.values)))
    out["zoo_ok"] = bool(zoo.bilinear().n == 2)

    # The probe's streamed products: minibatches sharded across devices, point replicated.
    from spectra.probe.core import probe_game
    from spectra.probe.products import StreamedOperator

    ts = jnp.asarray(rng.normal(size=(game.n, 3)))
    prod_single = StreamedOperator(game, w, minibatch=16, sharded=False).matmat(ts)
    prod_sharded = StreamedOperator(game, w, minibatch=16, sharded=True).matmat(ts)
    out["probe_products_diff"] = float(np.max(np.abs(prod_single - prod_sharded)))
    kwargs = dict(k=2, which="LM", minibatch=16, dense_max=0, hessians=False, progress=False)
    res_single = probe_game(game, w, sharded=False, **kwargs)
    res_sharded = probe_game(game, w, **kwargs)  # auto: 8 devices -> sharded
    a = np.asarray(res_single.jacobian["LM"].values)
    b = np.asarray(res_sharded.jacobian["LM"].values)
    out["probe_eig_diff"] = float(np.max(np.abs(a - b)))
    return out


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.exit(0)
