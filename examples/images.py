"""Images: MI between two sets of pictures, with a convolutional critic.

Correlated Gaussian latents (d = 4 per image) are drawn as 16 x 16 pictures of blobs whose
brightness is a sigmoid of each latent. The drawing is injective, so I(image_x; image_z) equals
the latents' MI, -d/2 log(1 - rho^2), which the conv critic (``critic="conv"``) must recover.
Images are channels-first (N, C, H, W) for torch and channels-last (N, H, W, C) for JAX and
TensorFlow, as each framework's convolutions expect.

    python examples/images.py            # full: 3 minutes measured on 2 CPU cores (torch)
    python examples/images.py --quick    # about 20 seconds; asserts the estimates track the truth
"""

from __future__ import annotations

from _common import output_folder, parser, pyplot

import mivb
from mivb.data import gaussian_images, rho_for_mi

DIM = 4


def run(args):
    levels, samples, steps = ((0.5, 1.5), 5000, 500) if args.quick else ((0.5, 1.0, 1.5, 2.0, 2.5), 20_000, 2500)
    backend = args.backend or next(b for b in ("torch", "jax", "tensorflow") if b in mivb.available_backends())
    channels_last = backend != "torch"
    results = []
    print(f"{'true MI':>8} {'estimate':>9} {'stderr':>7}   ({samples} image pairs, {steps} steps, {backend})")
    for mi in levels:
        x, z, truth = gaussian_images(samples, DIM, rho_for_mi(DIM, mi), channels_last=channels_last, seed=args.seed)
        result = mivb.estimate(x, z, critic="conv", backend=backend, steps=steps, seed=args.seed)
        results.append((truth, result.mi))
        print(f"{truth:>8.3f} {result.mi:>9.3f} {result.stderr:>7.3f}", flush=True)
    plot(args, x, z, results)
    if args.quick:
        for truth, estimate in results:
            assert abs(estimate - truth) < 0.35, results
        print("quick check passed: the conv critic recovers the MI of the images")
    return results


def plot(args, x, z, results) -> None:
    plt = pyplot()
    if plt is None:
        return
    folder = output_folder(args.out)
    fig, axes = plt.subplots(2, 5, figsize=(8, 3.6))
    for i in range(5):
        for row, images in enumerate((x, z)):
            picture = images[i].squeeze()
            axes[row][i].imshow(picture, cmap="gray")
            axes[row][i].axis("off")
    axes[0][0].set_title("x (top) and its paired z (bottom)", loc="left", fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / "images_pairs.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4, 3.2))
    truths, estimates = zip(*results)
    ax.plot(truths, truths, "k-", label="true MI")
    ax.plot(truths, estimates, "o-", label="conv critic, InfoNCE")
    ax.set(xlabel="true MI (nats)", ylabel="estimate (nats)", title="MI between images")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "images_mi.png", dpi=100)
    plt.close(fig)
    print(f"plots written to {folder.resolve()}/images_*.png")


if __name__ == "__main__":
    run(parser(__doc__.splitlines()[0]).parse_args())
