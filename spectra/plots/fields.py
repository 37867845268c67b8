"""Vector-field figures: lecture Fig. 2 (v, −∇½‖v‖², the consensus field) and the Dirac-GAN.

The flow drawn is the descent direction ``−F`` of each field ``F`` (where gradient descent goes).
Arrays in, :class:`~matplotlib.figure.Figure` out; :mod:`spectra.figures` computes the arrays.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from spectra.plots._common import new_figure, streams

__all__ = ["vector_fields", "dirac_gan_dynamics"]


def _stream_panel(ax, theta, phi, f_theta, f_phi, title, phi_label="φ"):
    streams(ax, theta, phi, -np.asarray(f_theta), -np.asarray(f_phi))
    ax.set(xlim=(theta[0], theta[-1]), ylim=(phi[0], phi[-1]), xlabel="θ", ylabel=phi_label)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)


def vector_fields(
    *,
    theta: np.ndarray,
    phi: np.ndarray,
    field_theta: np.ndarray,
    field_phi: np.ndarray,
    titles: np.ndarray,
    point_theta: np.ndarray,
    point_phi: np.ndarray,
    local_nash: np.ndarray,
    attractive: np.ndarray,
    extra_theta: np.ndarray,
    extra_phi: np.ndarray,
    extra_field: np.ndarray,
    extra_attractive: np.ndarray,
) -> Figure:
    """Lecture Fig. 2: stream plots of several fields over one 2-D game, stationary points marked.

    Args:
        theta, phi: the grid axes, ``(nx,)`` and ``(ny,)``.
        field_theta, field_phi: ``(k, ny, nx)`` components of the ``k`` fields on the grid.
        titles: ``(k,)`` panel titles.
        point_theta, point_phi: ``(p,)`` stationary points of the game's field ``v``.
        local_nash: ``(p,)`` whether each is a local Nash equilibrium (Lemma 9 / Corollary 10).
        attractive: ``(k, p)`` whether each is attractive for the flow ``−F_k`` (filled); a
            hollow marker is any other stationary point: a saddle (the non-Nash points of
            :func:`spectra.zoo.sine_game` under ``v``) or a source.
        extra_theta, extra_phi, extra_field, extra_attractive: zeros of field ``extra_field[i]``
            that are not stationary points of ``v`` (e.g. spurious critical points of ½‖v‖²).
    """
    k = len(titles)
    fig, axes = new_figure(1, k, width=4.0, height=4.5)
    for i, ax in enumerate(axes[0]):
        _stream_panel(ax, theta, phi, field_theta[i], field_phi[i], str(titles[i]))
        for j in range(len(point_theta)):
            color = "C2" if local_nash[j] else "C3"
            face = color if attractive[i, j] else "white"
            ax.plot(point_theta[j], point_phi[j], "o", ms=9, mec=color, mfc=face, mew=2, zorder=5)
        for j in np.flatnonzero(np.asarray(extra_field) == i):
            face = "0.3" if extra_attractive[j] else "white"
            ax.plot(extra_theta[j], extra_phi[j], "D", ms=5, mec="0.3", mfc=face, zorder=5)
    handles = [
        Line2D([], [], ls="", marker="o", mec="C2", mfc="C2", mew=2, label="local Nash"),
        Line2D([], [], ls="", marker="o", mec="C3", mfc="C3", mew=2, label="not Nash"),
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            mec="k",
            mfc="white",
            mew=2,
            label="hollow: not attractive (saddle or source)",
        ),
        Line2D([], [], ls="", marker="D", mec="0.3", mfc="white", label="zero of this field only"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return fig


def dirac_gan_dynamics(
    *,
    theta: np.ndarray,
    phi: np.ndarray,
    field_theta: np.ndarray,
    field_phi: np.ndarray,
    titles: np.ndarray,
    traj_theta: np.ndarray,
    traj_phi: np.ndarray,
    traj_panel: np.ndarray,
    traj_label: np.ndarray,
    weights: np.ndarray,
    eig_penalty: np.ndarray,
    eig_consensus: np.ndarray,
) -> Figure:
    """The Dirac-GAN (Mescheder et al. 2018): fields, trajectories, and ∇v's spectrum vs γ.

    Args:
        theta, phi: grid axes (generator θ, discriminator ψ = φ).
        field_theta, field_phi: ``(k, ny, nx)`` the field of each panel.
        titles: ``(k,)``.
        traj_theta, traj_phi: ``(r, T+1)`` iterates; ``traj_panel[r]`` says which panel,
            ``traj_label[r]`` names the method.
        weights: ``(g,)`` regularisation weights γ.
        eig_penalty: ``(g, 2)`` eigenvalues of ∇v at the equilibrium with gradient penalty γ.
        eig_consensus: ``(g, 2)`` eigenvalues of ∇(v + γ∇½‖v‖²) at the equilibrium.
    """
    k = len(titles)
    fig, axes = new_figure(1, k + 1, width=3.7, height=4.1)
    for i in range(k):
        ax = axes[0, i]
        _stream_panel(ax, theta, phi, field_theta[i], field_phi[i], str(titles[i]), "ψ (= φ)")
        for r in np.flatnonzero(np.asarray(traj_panel) == i):
            ax.plot(traj_theta[r], traj_phi[r], lw=1.3, label=str(traj_label[r]))
            ax.plot(traj_theta[r, 0], traj_phi[r, 0], "ko", ms=3)
        ax.plot(0, 0, "*", color="gold", mec="k", ms=11, zorder=5)
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[0, k]
    for eig, color, name in (
        (eig_penalty, "C1", "penalty: ∇v"),
        (eig_consensus, "C4", "consensus: ∇(v + γ∇½‖v‖²)"),
    ):
        eig = np.sort_complex(np.asarray(eig))
        for j in range(eig.shape[1]):
            ax.plot(
                weights, eig[:, j].real, "-", color=color, label=f"Re λ, {name}" if j == 0 else None
            )
            ax.plot(
                weights,
                eig[:, j].imag,
                "--",
                color=color,
                label=f"Im λ, {name}" if j == 0 else None,
            )
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set(xlabel="regularisation weight γ", ylabel="Re λ and Im λ at ω*")
    ax.set_title("the field's Jacobian: spectrum against γ", fontsize=10)
    ax.legend(fontsize=7)
    return fig
