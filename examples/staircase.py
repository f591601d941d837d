"""The staircase (Poole et al. 2019; Song & Ermon 2020): bounds tracking a rising true MI.

d = 20; the true MI steps through 2, 4, 6, 8, 10 nats every 4000 steps; every step draws a fresh
batch of 64 correlated Gaussian pairs; Adam at 5e-4; a separable critic (2 x 256 ReLU, 32-d
embedding) and a joint critic (2 x 256 ReLU). One panel per bound shows the raw and smoothed
estimate, the truth and InfoNCE's ceiling log(64); a table gives bias, standard deviation and MSE
over the last 500 steps of each stage.

    python examples/staircase.py            # full, both critics: about 60 minutes estimated (not timed)
    python examples/staircase.py --critics separable   # the separable critic only: 11 minutes measured
    python examples/staircase.py --quick    # about 15 seconds; asserts the estimates rise with the truth
"""

from __future__ import annotations

import numpy as np

import mivb
from mivb.data import rho_for_mi
from mivb.estimate import CHUNK_STEPS, EstimateConfig
from _common import output_folder, parser, pyplot

BATCH = 64


def staircase_data(stages, steps_per_stage, dim, seed):
    """Fresh pairs for every step: (steps * BATCH, dim) arrays and the true MI of each step."""
    xs, zs = [], []
    for stage, mi in enumerate(stages):
        x, z, _ = mivb.correlated_gaussians(steps_per_stage * BATCH, dim, rho_for_mi(dim, mi), seed=seed + stage)
        xs.append(x)
        zs.append(z)
    truth = np.repeat(np.asarray(stages, float), steps_per_stage)
    return np.concatenate(xs), np.concatenate(zs), truth


def train(bound, critic, x, z, args) -> np.ndarray:
    """The training value at each step: each step sees its own fresh batch."""
    backend = args.backend or next(b for b in ("torch", "jax", "tensorflow") if b in mivb.available_backends())
    config = EstimateConfig(bound=bound, critic=mivb.critics.critic_config(critic), backend=backend,
                            steps=len(x) // BATCH, batch_size=BATCH, learning_rate=5e-4, seed=args.seed)
    trainer = mivb.get_backend(backend).Trainer(config, (x.shape[1:], z.shape[1:]), {"train": (x, z)})
    batches = np.arange(len(x)).reshape(-1, BATCH)
    return np.concatenate([trainer.train(batches[i : i + CHUNK_STEPS], None)
                           for i in range(0, len(batches), CHUNK_STEPS)])


def smooth(values: np.ndarray, span: int = 100) -> np.ndarray:
    kernel = np.ones(span) / span
    return np.convolve(np.pad(values, (span - 1, 0), mode="edge"), kernel, mode="valid")


def run(args):
    if args.quick:
        stages, per_stage, bounds, critics, tail = (2.0, 4.0, 6.0), 300, ("infonce", "smile"), ("separable",), 100
    else:
        stages, per_stage, tail = (2.0, 4.0, 6.0, 8.0, 10.0), 4000, 500
        bounds, critics = ("infonce", "nwj", "js", "mine", "smile", "dv"), tuple(args.critics)
    x, z, truth = staircase_data(stages, per_stage, 20, args.seed)
    critic_specs = {"separable": {"kind": "separable", "hidden": (256, 256), "embedding": 32},
                    "joint": {"kind": "joint", "hidden": (256, 256)}}
    curves = {}
    print(f"{'critic':<10} {'bound':<8} {'truth':>6} {'bias':>7} {'std':>6} {'mse':>7}")
    for critic in critics:
        for bound in bounds:
            values = train(bound, critic_specs[critic], x, z, args)
            curves[critic, bound] = values
            for stage, mi in enumerate(stages):
                window = values[(stage + 1) * per_stage - tail : (stage + 1) * per_stage]
                bias, std = window.mean() - mi, window.std()
                print(f"{critic:<10} {bound:<8} {mi:>6.1f} {bias:>+7.3f} {std:>6.3f} {bias ** 2 + std ** 2:>7.3f}",
                      flush=True)
    plot(args, curves, truth, critics, bounds)
    if args.quick:
        for (critic, bound), values in curves.items():
            means = [values[(s + 1) * per_stage - tail : (s + 1) * per_stage].mean() for s in range(len(stages))]
            assert all(a + 0.3 < b for a, b in zip(means, means[1:])), f"{critic}/{bound}: {means}"
        print("quick check passed: every estimate rises with the true MI")
    return curves


def plot(args, curves, truth, critics, bounds) -> None:
    plt = pyplot()
    if plt is None:
        return
    folder = output_folder(args.out)
    for critic in critics:
        fig, axes = plt.subplots(1, len(bounds), figsize=(3.2 * len(bounds), 3), sharey=True, squeeze=False)
        for ax, bound in zip(axes[0], bounds):
            values = curves[critic, bound]
            ax.plot(values, color="C0", alpha=0.3, lw=0.5, label="estimate")
            ax.plot(smooth(values), color="C0", label="smoothed")
            ax.plot(truth, "k", label="true MI")
            if bound == "infonce":
                ax.axhline(np.log(BATCH), color="C3", ls="--", label="log(batch)")
            ax.set(title=bound, xlabel="step", ylim=(-1, 12))
        axes[0][0].set_ylabel(f"{critic} critic: MI (nats)")
        axes[0][0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / f"staircase_{critic}.png", dpi=100)
        plt.close(fig)
    print(f"plots written to {folder.resolve()}/staircase_*.png")


if __name__ == "__main__":
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--critics", nargs="+", default=["separable", "joint"], choices=["separable", "joint"])
    run(arguments.parse_args())
