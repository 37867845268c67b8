"""Test configuration: float64 on for the theory, few threads, headless plotting."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A tiny mog8 run (the quick demo's, D momentum −0.5; checkpoints at steps 0, 20 and 40)
    trained once per session, shared by the CLI tests of ``spectra probe`` and ``spectra
    density``; tests must not write into it."""
    from spectra.demo import demo_configs
    from spectra.gan.train import train

    config = demo_configs(quick=True)["configs"]["negative"]  # mog8's optimisers, tiny networks
    path = tmp_path_factory.mktemp("runs") / "tiny"
    train(config, path, progress=False, log=lambda message: None)
    return path
