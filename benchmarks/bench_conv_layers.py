"""Benchmark: XLA's CPU convolutions against PyTorch's (oneDNN), layer by layer, side by side.

Why the conv GAN's probe product costs about what PyTorch's double-backprop product does
(:mod:`benchmarks.bench_probe`): a product is a handful of forward convolutions, weight
gradients and input gradients per layer, and on this CPU XLA runs two of the three kernels
slower than PyTorch for the generator's wide layers. Each row times one kernel of one layer of the
benchmark's conv GAN (3×3, ``SAME``, minibatch 20, float32) in both frameworks in this process,
best of a few repeats: ``ratio`` is PyTorch's time over XLA's (above 1: XLA is faster).

* ``forward``: ``y = conv(x, w)``;
* ``weight gradient``: ``∂/∂w ⟨g, conv(x, w)⟩`` (``torch.nn.grad.conv2d_weight``);
* ``input gradient``: ``∂/∂x ⟨g, conv(x, w)⟩`` (``torch.nn.grad.conv2d_input``).

The next row times one gradient of the whole saturating GAN loss over a minibatch of 20 in both.

XLA's kernels are the ones :mod:`spectra.xla_cpu` selects (imported first, so its setting holds
here): XLA's own convolutions instead of its default YNNPACK ones. The last rows time XLA's kernels
both ways, each in fresh processes (the setting is per process), alternated twice and best taken:
``ratio`` is the default's time over spectra's.

    python -m benchmarks --only conv_layers
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import dataclasses  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import spectra  # noqa: E402, F401 - sets spectra.xla_cpu's kernels before JAX starts
from spectra import xla_cpu  # noqa: E402

MINIBATCH = 20
LAYERS = {  # name: (spatial size, input channels, output channels), the conv GAN's 3×3 layers
    "G c1": (14, 256, 64),
    "G c2": (28, 64, 32),
    "D c2": (14, 32, 64),
    "D c3": (7, 64, 128),
}


def _best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _jax_kernels():
    import jax
    from jax import lax

    def conv(x, w):
        return lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )

    forward = jax.jit(lambda x, w, g: conv(x, w))
    weight = jax.jit(lambda x, w, g: jax.vjp(lambda w: conv(x, w), w)[1](g)[0])
    inputs = jax.jit(lambda x, w, g: jax.vjp(lambda x: conv(x, w), x)[1](g)[0])
    return {"forward": forward, "weight gradient": weight, "input gradient": inputs}


def _torch_kernels():
    import torch
    import torch.nn.functional as F

    return {
        "forward": lambda x, w, g: F.conv2d(x, w, padding=1),
        "weight gradient": lambda x, w, g: torch.nn.grad.conv2d_weight(x, w.shape, g, padding=1),
        "input gradient": lambda x, w, g: torch.nn.grad.conv2d_input(x.shape, w, g, padding=1),
    }


def _layer_rows(name, size, cin, cout, repeats, torch_threads):
    import jax
    import torch

    x, w, g = _layer_arrays(size, cin, cout)
    jx, jw, jg = (jax.numpy.asarray(a) for a in (x, w, g))
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    tw = torch.from_numpy(w).permute(3, 2, 0, 1).contiguous()  # HWIO -> OIHW
    tg = torch.from_numpy(g).permute(0, 3, 1, 2).contiguous()
    torch.set_num_threads(torch_threads)
    rows = []
    macs = MINIBATCH * size * size * 9 * cin * cout
    for (kernel, jf), tf in zip(_jax_kernels().items(), _torch_kernels().values(), strict=True):
        with torch.no_grad():
            t_torch = _best(lambda tf=tf: tf(tx, tw, tg), repeats)
        t_jax = _best(lambda jf=jf: jax.block_until_ready(jf(jx, jw, jg)), repeats)
        rows.append(
            {
                "name": _kernel_name(name, size, cin, cout, kernel),
                "measured": 1e3 * t_jax,
                "baseline": 1e3 * t_torch,
                "ratio": t_torch / t_jax,
                "target": None,
                "passed": None,
                "note": f"XLA {macs / t_jax / 1e9:.0f} GMAC/s, PyTorch {macs / t_torch / 1e9:.0f}"
                f" GMAC/s; torch threads {torch_threads}; {_kernels()}",
            }
        )
    return rows


def _gradient_row(repeats, torch_threads):
    """One gradient of the conv GAN's loss over a minibatch, in both frameworks."""
    import torch

    from benchmarks import bench_probe as bp
    from benchmarks import berard_baseline as bb

    phi, theta, x, z = bp._setup({"model": "conv", "samples": MINIBATCH})
    t_jax, n = _jax_gradient_seconds(repeats)
    gen, dis = bb.conv_networks(phi, theta)
    xs = torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    zs = torch.as_tensor(z)
    params = [*dis.parameters(), *gen.parameters()]
    torch.set_num_threads(torch_threads)

    def torch_gradient():
        loss_d, _ = bb.saturating_losses(dis(xs).reshape(-1), dis(gen(zs)).reshape(-1))
        torch.autograd.grad(loss_d, params)

    t_torch = _best(torch_gradient, repeats)
    return {
        "name": f"conv GAN: one gradient over {MINIBATCH} images (ms)",
        "measured": 1e3 * t_jax,
        "baseline": 1e3 * t_torch,
        "ratio": t_torch / t_jax,
        "target": None,
        "passed": None,
        "note": f"{n} parameters; torch threads {torch_threads}; {_kernels()}",
    }


def _kernel_name(name, size, cin, cout, kernel) -> str:
    return f"{name} {size}×{size}, {cin}→{cout}: {kernel} (ms)"


@functools.cache
def _kernels() -> str:
    return "XLA convolutions: " + ("YNNPACK" if xla_cpu.convolutions_use_ynnpack() else "Eigen")


def _jax_gradient_seconds(repeats: int) -> tuple[float, int]:
    """One gradient of the conv GAN's loss over a minibatch in JAX: the faster of the joint
    (zero-sum) and the two separate gradients; and the number of parameters."""
    import jax

    from benchmarks import bench_probe as bp
    from spectra.games import vector_field

    phi, theta, x, z = bp._setup({"model": "conv", "samples": MINIBATCH})
    game = bp.spectra_game("conv", phi, theta, x, z)
    w = game.point()
    best = float("inf")
    for g in (game, dataclasses.replace(game, zero_sum=False)):
        grad = jax.jit(lambda w, g=g: vector_field(g, w))
        best = min(best, _best(lambda grad=grad: jax.block_until_ready(grad(w)), repeats))
    return best, game.n


def _layer_arrays(size, cin, cout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((MINIBATCH, size, size, cin)).astype(np.float32)
    w = (rng.standard_normal((3, 3, cin, cout)) / np.sqrt(9 * cin)).astype(np.float32)
    g = rng.standard_normal((MINIBATCH, size, size, cout)).astype(np.float32)
    return x, w, g


def xla_seconds(repeats: int, layers) -> dict[str, float]:
    """This process's XLA time of every kernel of ``layers`` and of one GAN gradient."""
    import jax

    out = {}
    for name, (size, cin, cout) in layers:
        args = [jax.numpy.asarray(a) for a in _layer_arrays(size, cin, cout)]
        for kernel, jf in _jax_kernels().items():
            out[_kernel_name(name, size, cin, cout, kernel)] = _best(
                lambda jf=jf, a=args: jax.block_until_ready(jf(*a)), repeats
            )
    out[f"conv GAN: one gradient over {MINIBATCH} images (ms)"] = _jax_gradient_seconds(repeats)[0]
    return out


def _xla_seconds_in_fresh_process(default_kernels: bool, repeats: int, quick: bool) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = env.get("XLA_FLAGS", "").replace(xla_cpu.FLAG, "").strip()
    env.pop(xla_cpu.OPT_OUT, None)
    if default_kernels:
        env[xla_cpu.OPT_OUT] = "0"
    code = (
        "import json, benchmarks.bench_conv_layers as b; "
        f"print(json.dumps(b.xla_seconds({repeats}, b.layers({quick}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def layers(quick: bool):
    return list(LAYERS.items())[: 1 if quick else None]


def _kernel_choice_rows(repeats: int, quick: bool) -> list[dict]:
    """XLA's default convolution kernels (YNNPACK) against spectra's choice (XLA's own)."""
    default: dict[str, float] = {}
    ours: dict[str, float] = {}
    for _ in range(2):
        for store, flag in ((default, True), (ours, False)):
            for key, t in _xla_seconds_in_fresh_process(flag, repeats, quick).items():
                store[key] = min(store.get(key, float("inf")), t)
    return [
        {
            "name": key.replace(" (ms)", ", XLA default kernels (ms)"),
            "measured": 1e3 * ours[key],
            "baseline": 1e3 * default[key],
            "ratio": default[key] / ours[key],
            "target": None,
            "passed": None,
            "note": "measured: spectra's setting (spectra.xla_cpu, XLA's own convolutions); "
            "baseline: XLA's default (YNNPACK); fresh processes, alternated twice",
        }
        for key in ours
    ]


def run(quick: bool = False) -> list[dict]:
    try:
        import torch  # noqa: F401
    except ImportError:
        return [{"name": "skipped", "note": "torch is not installed (pip install torch==2.13.0)"}]
    repeats = 2 if quick else 9
    threads = min(2, os.cpu_count() or 1)
    rows = []
    for name, (size, cin, cout) in layers(quick):
        rows += _layer_rows(name, size, cin, cout, repeats, threads)
    rows.append(_gradient_row(repeats, threads))
    return rows + _kernel_choice_rows(repeats, quick)
