"""The trainer: determinism, the game it follows, run folders, checkpoints, divergence."""

import json
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectra import games
from spectra.gan import game_at, game_from_state, get_config
from spectra.gan import step as step_lib
from spectra.gan.checkpoint import CheckpointError, CheckpointStore
from spectra.gan.train import (
    TrainingDiverged,
    load_checkpoint,
    run_chunk,
    static_trainer,
    train,
)

SMALL = dict(
    hidden=16,
    depth=1,
    latent_dim=4,
    batch_size=32,
    steps=30,
    steps_per_call=10,
    checkpoint_every=10,
    eval_every=10,
    eval_batch_size=64,
    metric_samples=200,
)


def small(**overrides):
    return get_config("mog8", **{**SMALL, **overrides})


def _leaves_equal(a, b) -> bool:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb, strict=True))


def _setup(config):
    trainer = step_lib.make_trainer(config)
    keys = step_lib.run_keys(config.seed)
    state = jax.jit(step_lib.init_state, static_argnums=0)(static_trainer(trainer), keys.init)
    arrays = jax.tree_util.tree_map(jnp.asarray, trainer.dataset.arrays)
    return trainer, keys, state, step_lib.hyper_from_config(config), arrays


def test_steps_are_deterministic_and_independent_of_chunking():
    trainer, keys, state, hyper, arrays = _setup(small())
    once, _ = run_chunk(trainer, state, hyper, arrays, keys.train, 0, 30)
    again, _ = run_chunk(trainer, state, hyper, arrays, keys.train, 0, 30)
    chunked = state
    for start in (0, 10, 20):
        chunked, _ = run_chunk(trainer, chunked, hyper, arrays, keys.train, start, 10)
    assert _leaves_equal(once, again)
    assert _leaves_equal(once, chunked)
    other = step_lib.run_keys(1)
    moved, _ = run_chunk(trainer, state, hyper, arrays, other.train, 0, 30)
    assert not _leaves_equal(once, moved)


@pytest.mark.parametrize("updates", ["simultaneous", "alternating"])
def test_the_trainer_follows_the_games_vector_field(updates):
    """One SGD step (β = 0) moves (φ, θ) by −η v, with v from the Game that game_at builds."""
    eta = 0.5
    config = small(updates=updates, d_beta=0.0, g_beta=0.0, d_lr=eta, g_lr=eta)
    trainer, keys, state, hyper, arrays = _setup(config)
    new, _ = run_chunk(trainer, state, hyper, arrays, keys.train, 0, 1)
    batch = step_lib.training_batch(trainer, arrays, keys.train, 0)
    game = game_from_state(config, state.d_params, state.g_params, batch)
    w0 = game.point()
    w1 = game.join(new.d_params, new.g_params)
    moved = (w0 - w1) / eta
    assert float(jnp.linalg.norm(moved)) > 1e-3
    n_phi = game.n_phi
    np.testing.assert_allclose(moved[:n_phi], game.grad_phi(w0), rtol=2e-3, atol=2e-6)
    # the generator sees φ_t (simultaneous) or the updated φ_{t+1} (alternating)
    w_seen = w0 if updates == "simultaneous" else jnp.concatenate([w1[:n_phi], w0[n_phi:]])
    np.testing.assert_allclose(moved[n_phi:], game.grad_theta(w_seen), rtol=2e-3, atol=2e-6)
    if updates == "simultaneous":
        np.testing.assert_allclose(moved, games.vector_field(game, w0), rtol=2e-3, atol=2e-6)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "mog8"
    result = train(small(), folder, progress=False)
    return folder, result


def test_a_run_folder_holds_config_metrics_samples_and_checkpoints(run):
    folder, result = run
    assert result.step == 30
    assert json.loads((folder / "config.json").read_text())["hidden"] == 16
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 10, 20, 30]
    assert {"d_loss", "eval_d_loss", "modes_covered", "high_quality_fraction"} <= set(records[-1])
    assert sorted(p.name for p in (folder / "samples").iterdir())[-1] == "step_0000030.png"
    with CheckpointStore(folder) as store:
        assert store.steps() == [0, 10, 20, 30]
    loaded = load_checkpoint(folder).checkpoint
    assert loaded.step == 30 and _leaves_equal(loaded.state["g_params"], result.state.g_params)
    assert loaded.config["hidden"] == 16


def test_game_at_rebuilds_the_logged_game(run):
    folder, _ = run
    records = {
        json.loads(line)["step"]: json.loads(line) for line in open(folder / "metrics.jsonl")
    }
    game = game_at(folder, 20)
    ckpt = load_checkpoint(folder, 20).checkpoint
    assert _leaves_equal(game.phi, ckpt.state["d_params"])
    assert _leaves_equal(game.data, ckpt.eval_batch)
    assert game.data["real"].shape == (64, 2) and game.zero_sum
    # the game's losses at its point are the evaluation losses the trainer logged at that step
    loss_phi, loss_theta = game.losses(game.point())
    assert float(loss_phi) == pytest.approx(records[20]["eval_d_loss"], rel=1e-6)
    assert float(loss_theta) == pytest.approx(records[20]["eval_g_loss"], rel=1e-6)
    latest = game_at(folder)
    assert latest.name.endswith("@30")
    wide = game_at(folder, 20, dtype=jnp.float64)
    assert wide.point().dtype == jnp.float64
    np.testing.assert_allclose(
        games.vector_field(wide, wide.point()),
        games.vector_field(game, game.point()),
        rtol=1e-3,
        atol=1e-5,
    )
    with pytest.raises(CheckpointError, match="no checkpoint at step 15"):
        game_at(folder, 15)


def test_corrupted_checkpoint_is_detected_never_loaded(run, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(run[0], folder)
    files = sorted(p for p in (folder / "checkpoints" / "20").rglob("*") if p.is_file())
    target = max(files, key=lambda p: p.stat().st_size)  # an array data file
    payload = bytearray(target.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    target.write_bytes(bytes(payload))
    with pytest.raises(CheckpointError, match="step 20 .* corrupted: changed file"):
        game_at(folder, 20)
    game_at(folder, 10)  # the others are still fine
    files[0].unlink()
    with pytest.raises(CheckpointError, match="corrupted: missing file"):
        load_checkpoint(folder, 20)


def test_reading_a_run_skips_incomplete_steps_and_never_touches_the_folder(run, tmp_path):
    folder = tmp_path / "read"
    shutil.copytree(run[0], folder)
    unfinished = folder / "checkpoints" / "40.orbax-checkpoint-tmp-99"
    unfinished.mkdir()
    (folder / "manifests" / "30.json").unlink()  # as if killed before the manifest
    with pytest.raises(CheckpointError, match="step 30 .* incomplete"):
        game_at(folder, 30)
    assert game_at(folder).name.endswith("@20")  # the latest *complete* step
    assert unfinished.exists() and (folder / "checkpoints" / "30").exists()


def test_resume_discards_incomplete_saves_and_ends_bit_identical(run, tmp_path):
    folder = tmp_path / "resumed"
    shutil.copytree(run[0], folder)
    # a save killed between orbax and the manifest, and one killed inside orbax
    (folder / "manifests" / "30.json").unlink()
    (folder / "manifests" / "20.json").unlink()
    (folder / "checkpoints" / "40.orbax-checkpoint-tmp-1234").mkdir()
    messages = []
    result = train(small(), folder, resume=True, progress=False, log=messages.append)
    assert any("incomplete checkpoint at step 20" in m for m in messages)
    assert any("incomplete checkpoint at step 30" in m for m in messages)
    assert any("unfinished checkpoint save" in m for m in messages)
    assert any("resuming" in m and "step 10" in m for m in messages)
    assert _leaves_equal(result.state, run[1].state)
    strip = [line for line in open(folder / "metrics.jsonl")]
    assert strip == [line for line in open(run[0] / "metrics.jsonl")]
    with CheckpointStore(folder) as store:
        assert store.steps() == [0, 10, 20, 30]


def test_longer_resume_continues_the_same_trajectory(run, tmp_path):
    folder = tmp_path / "longer"
    shutil.copytree(run[0], folder)
    longer = train(small(steps=40), folder, resume=True, progress=False, log=lambda m: None)
    fresh = train(small(steps=40), tmp_path / "fresh", progress=False)
    assert longer.step == 40 and _leaves_equal(longer.state, fresh.state)


def test_output_folder_errors(run, tmp_path):
    folder, _ = run
    with pytest.raises(ValueError, match="holds another run .*d_lr"):
        train(small(d_lr=0.2), folder, progress=False)
    with pytest.raises(ValueError, match="already holds this run; pass --resume"):
        train(small(), folder, progress=False)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a spectra run folder"):
        train(small(), stranger, progress=False)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cannot write to the output folder"):
        train(small(), blocker / "run", progress=False)


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    folder = tmp_path / "diverge"
    with pytest.raises(
        TrainingDiverged, match="diverged at step .* checkpoint \\(step 0\\)"
    ) as err:
        train(small(d_lr=1e8, g_lr=1e8), folder, progress=False)
    assert err.value.last_checkpoint == 0
    with CheckpointStore(folder) as store:
        assert store.steps() == [0]
    assert np.isfinite(float(game_at(folder).losses(game_at(folder).point())[0]))


def test_config_validation_names_the_field():
    with pytest.raises(ValueError, match="d_beta"):
        small(d_beta=-1.0)
    with pytest.raises(ValueError, match="g_lr"):
        small(g_lr=0.0)
    with pytest.raises(ValueError, match="unknown config field"):
        small(colour="red")
    with pytest.raises(ValueError, match="config: unknown name"):
        get_config("cifar10")


@pytest.mark.slow
def test_an_image_run_trains_unrolled_and_rebuilds_its_game(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRA_CACHE_DIR", str(tmp_path / "cache"))
    config = get_config(
        "digits",
        channels=4,
        latent_dim=4,
        batch_size=8,
        steps=4,
        steps_per_call=2,
        checkpoint_every=2,
        eval_every=4,
        eval_batch_size=16,
        metric_samples=50,
    )
    result = train(config, tmp_path / "digits", progress=False)
    assert result.step == 4 and result.metrics["classifier_score"] >= 1.0
    assert np.isfinite(result.metrics["frechet"])
    game = game_at(tmp_path / "digits", 2)
    assert game.data["real"].shape == (16, 8, 8, 1)
    assert _leaves_equal(
        game.theta, load_checkpoint(tmp_path / "digits", 2).checkpoint.state["g_params"]
    )


def test_a_grid_cell_is_the_run_that_train_makes(tmp_path):
    from spectra.gan.grid import run_grid
    from spectra.gan.train import generate_many

    config = small(steps=20)
    grid = run_grid(config, betas=[-0.5, 0.5], lrs=[0.1], seeds=[1], n_samples=50, progress=False)
    cell = config.replace(d_beta=-0.5, d_lr=0.1, seed=1)
    single = train(cell, tmp_path / "cell", progress=False)
    trainer = step_lib.make_trainer(cell)
    latent = step_lib.metric_latent(trainer, step_lib.run_keys(1).metrics)
    np.testing.assert_array_equal(
        grid.samples[0, 0], generate_many(trainer, single.state.g_params, latent)[:50]
    )
    assert grid.rows[0]["high_quality_fraction"] == single.metrics["high_quality_fraction"]
    assert not np.array_equal(grid.samples[0, 0], grid.samples[1, 0])  # β matters
