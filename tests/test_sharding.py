"""Sharded paths on 8 simulated CPU devices agree with one device (issue: scale-out).

The device count must be set before jax is imported, so the comparison runs in a subprocess.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spectra import sharding

WORKER = Path(__file__).with_name("sharded_worker.py")


@pytest.fixture(scope="module")
def report():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    ).strip()
    proc = subprocess.run(
        [sys.executable, str(WORKER)], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_eight_devices_are_used(report):
    assert report["devices"] == 8


def test_sharded_rate_map_equals_single_device(report):
    assert report["rate_map_shape"] == [29, 37]
    assert report["rate_map_max_abs_diff"] < 1e-12


def test_sharded_optimal_step_sizes_equal_per_spectrum(report):
    assert report["step_sizes_eta_diff"] < 1e-12
    assert report["step_sizes_rho_diff"] < 1e-12


def test_data_parallel_jvp_and_eigenvalues_equal_single_device(report):
    assert "'data'" in report["data_sharding"]
    assert report["jvp_diff"] < 1e-12
    assert report["eig_diff"] < 1e-9
    assert "not a multiple of the 8 devices" in report["indivisible_error"]


def test_probe_products_and_eigenvalues_data_parallel(report):
    assert report["probe_products_diff"] < 1e-12
    assert report["probe_eig_diff"] < 1e-9


def test_single_device_helpers_in_process():
    import jax.numpy as jnp
    import numpy as np

    mesh = sharding.data_mesh()
    assert sharding.device_count(mesh) >= 1
    x = jnp.arange(5.0)
    out = sharding.map_sharded(lambda s, v: v * s, x, static=(jnp.asarray(2.0),), mesh=mesh)
    np.testing.assert_allclose(out, 2 * np.arange(5.0))
    with pytest.raises(ValueError, match="xs: expected the same leading dimension"):
        sharding.map_sharded(lambda a, b: a + b, jnp.ones(3), jnp.ones(4))
    with pytest.raises(ValueError, match="has no batch axis"):
        sharding.shard_batch(jnp.asarray(1.0), mesh)
