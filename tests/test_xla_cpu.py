"""spectra.xla_cpu: the convolution kernels set before JAX starts, and when it is left alone."""

import os
import subprocess
import sys

import pytest

from spectra import xla_cpu

TESTED = "0.10.2"


def test_configure_adds_the_flag_and_keeps_other_flags():
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    assert xla_cpu.configure(env, jaxlib_version=TESTED)
    assert env["XLA_FLAGS"] == f"--xla_force_host_platform_device_count=4 {xla_cpu.FLAG}"
    env = {}
    assert xla_cpu.configure(env, jaxlib_version=TESTED)
    assert env["XLA_FLAGS"] == xla_cpu.FLAG


@pytest.mark.parametrize(
    ("env", "version"),
    [
        ({xla_cpu.OPT_OUT: "0"}, TESTED),  # the user opted out
        ({"XLA_FLAGS": "--xla_cpu_experimental_ynn_fusion_type=dot"}, TESTED),  # user's choice
        ({}, "0.11.0"),  # XLA would abort on an unknown fusion type: untested versions keep theirs
        ({}, None),  # no jaxlib
    ],
)
def test_configure_leaves_xla_flags_alone(env, version):
    before = dict(env)
    assert not xla_cpu.configure(env, jaxlib_version=version)
    assert env == before


def _ynnpack_in_fresh_process(**env) -> bool:
    code = "import spectra.xla_cpu as x; print(x.convolutions_use_ynnpack())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**_clean_env(), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1] == "True"


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", xla_cpu.OPT_OUT)}


@pytest.mark.skipif(
    not (xla_cpu._jaxlib_version() or "").startswith(xla_cpu.TESTED_JAXLIB),
    reason="the flag is only set for the tested jaxlib versions",
)
def test_importing_spectra_takes_convolutions_out_of_ynnpack():
    """In a fresh process, ``import spectra`` alone changes the kernels XLA compiles a
    convolution to; with the opt-out it stays XLA's default (YNNPACK)."""
    assert not _ynnpack_in_fresh_process()
    assert _ynnpack_in_fresh_process(**{xla_cpu.OPT_OUT: "0"})
