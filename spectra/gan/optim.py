"""Per-player optax optimisers: heavy-ball SGD (negative momentum allowed) and Adam.

``optax.sgd(learning_rate=η, momentum=β)`` keeps a trace ``m_t = g_t + β m_{t−1}`` and steps
``ω_{t+1} = ω_t − η m_t``. Since ``η m_{t−1} = ω_{t−1} − ω_t``, this is exactly the heavy-ball
update of the paper (Gidel et al. 2019, eq. 5; Polyak 1964)

.. math::

    \\omega_{t+1} = \\omega_t - \\eta\\, v(\\omega_t) + \\beta(\\omega_t - \\omega_{t-1}),
    \\qquad \\omega_{-1} = \\omega_0,

for any real β, negative included (``tests/test_gan_optim.py`` checks it against that recursion).
Adam (Kingma & Ba 2015) is offered for comparison; its ``β`` is Adam's ``b1``, which may also be
negative (``b2 = 0.999``).

Step sizes and momenta may be traced arrays: the grid sweep ``vmap``s one compiled train step over
many (η, β) values.
"""

from __future__ import annotations

import jax
import optax

from spectra.gan.config import OPTIMIZERS

__all__ = ["make_optimizer"]


def make_optimizer(kind: str, *, lr, beta) -> optax.GradientTransformation:
    """One player's optimiser: ``kind`` in ``("sgd", "adam")``, step size ``lr``, momentum ``beta``.

    Concrete values are checked (η > 0, β ∈ (−1, 1)); traced values are taken as given.
    """
    if not isinstance(lr, jax.core.Tracer) and not float(lr) > 0:
        raise ValueError(f"lr: the step size η must be > 0, got {lr}")
    if not isinstance(beta, jax.core.Tracer) and not -1.0 < float(beta) < 1.0:
        raise ValueError(f"beta: the momentum β must lie in (-1, 1), got {beta}")
    if kind == "sgd":
        return optax.sgd(learning_rate=lr, momentum=beta)
    if kind == "adam":
        return optax.adam(learning_rate=lr, b1=beta, b2=0.999)
    raise ValueError(f"optimizer: unknown kind {kind!r}; expected one of {', '.join(OPTIMIZERS)}")
