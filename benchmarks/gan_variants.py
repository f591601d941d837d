"""Variants of examples/gan_25_gaussians.py that its docstring reports: one run per call, in JAX.

The example's GAN and evaluation (its constants and ``quality``), on the data stream it had before
it gained its code, with the knobs issue #16's search turned. With no flags it runs the example's
former term, I(G(z); z) with weight 1. The knobs: training length and learning rates; the MI
term's weight, optionally decaying linearly (``--beta``, ``--beta-end``); the noise ``s`` of a
Gaussian channel through which the MI critic sees the samples (``--channel``, optionally growing
linearly from ``--channel-start`` over ``--ramp`` steps); a code beside the noise with the term
I(G(z, c) + s N; c) instead of I(G(z) + s N; z), one-hot with K values (``--codes``) or uniform on
[-1, 1]^D (``--continuous``); a factor on the generator's output layer at init (``--init-scale``);
first steps in which the generator maximises the MI alone (``--warmup``); and an R1 gradient
penalty on the discriminator (``--r1``, Mescheder et al. 2018). Prints the modes covered and the
high-quality share at five checkpoints, and writes the samples there to ``--out`` (an .npz file).

    python benchmarks/gan_variants.py --steps 20000 --channel 0.5       # 14 modes, 87% at the end
    python benchmarks/gan_variants.py --codes 50 --channel 0.5 --beta 3 --init-scale 10   # 23 modes, 98%
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import gan_25_gaussians as example  # after its folder is on the path


def stream(seed: int, steps: int):
    """Each step's real batch and Gaussian noise: the example's stream before it gained its code."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        real = example.MODES[rng.integers(0, len(example.MODES), example.BATCH)] + example.STD * rng.standard_normal(
            (example.BATCH, 2), np.float32)
        yield real, rng.standard_normal((example.BATCH, example.NOISE), np.float32)


def main(args: argparse.Namespace) -> None:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optax
    from mivb_jax import MIEstimator, adaptive_clip_scale

    noise_dim = example.NOISE
    codes = args.codes or args.continuous
    key_g, key_d, key_critic, key_channel = jax.random.split(jax.random.key(args.seed), 4)
    mlp = lambda dim_in, dim_out, key: eqx.nn.MLP(dim_in, dim_out, example.WIDTH, example.DEPTH, jax.nn.relu, key=key)
    generator, discriminator = mlp(noise_dim + codes, 2, key_g), mlp(2, 1, key_d)
    generator = eqx.tree_at(lambda g: g.layers[-1].weight, generator, args.init_scale * generator.layers[-1].weight)
    g_opt = optax.adam(optax.linear_schedule(args.g_lr, 0.0, args.steps), b1=0.5, b2=0.9)
    d_opt = optax.adam(optax.linear_schedule(args.d_lr, 0.0, args.steps), b1=0.5, b2=0.9)
    g_state = g_opt.init(eqx.filter(generator, eqx.is_array))
    d_state = d_opt.init(eqx.filter(discriminator, eqx.is_array))
    estimator = MIEstimator(2, codes or noise_dim, bound=example.BOUND, critic=example.CRITIC, lr=example.CRITIC_LR,
                            ema_decay=0.99)
    critic = estimator.init(key_critic)
    apply = lambda model, x: jax.vmap(model)(x)
    bce = lambda logits, label: jnp.mean(optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)))
    partner = lambda z: z[:, noise_dim:] if codes else z  # what the MI is measured with: the code, or all the noise

    def d_loss(d, real, fake):
        loss = bce(apply(d, real), 1.0) + bce(apply(d, fake), 0.0)
        if args.r1:
            slopes = jax.grad(lambda r: jnp.sum(apply(d, r)))(real)
            loss = loss + args.r1 / 2 * jnp.mean(jnp.sum(slopes**2, axis=-1))
        return loss

    @eqx.filter_jit
    def step(generator, discriminator, g_state, d_state, critic, real, z, key, channel, beta, with_mi: bool,
             warm: bool):
        fake = apply(generator, z)
        updates, d_state = d_opt.update(eqx.filter_grad(d_loss)(discriminator, real, fake), d_state, discriminator)
        discriminator = eqx.apply_updates(discriminator, updates)
        grads = eqx.filter_grad(lambda g: bce(apply(discriminator, apply(g, z)), 1.0))(generator)
        if with_mi:
            heard = channel * jax.random.normal(key, fake.shape)
            mi = lambda g: estimator.apply(critic, apply(g, z) + heard, partner(z)).mi_for_grads
            mi_grads = eqx.filter_grad(mi)(generator)
            if warm:  # the warm-up: the generator maximises the MI alone
                grads = jax.tree.map(lambda m: -m, mi_grads)
            else:
                scale = adaptive_clip_scale(grads, mi_grads)
                grads = jax.tree.map(lambda g, m: g - beta * scale * m, grads, mi_grads)
            critic, _ = estimator.update(critic, fake + heard, partner(z))
        updates, g_state = g_opt.update(grads, g_state, generator)
        return eqx.apply_updates(generator, updates), discriminator, g_state, d_state, critic

    one_hot = np.eye(codes, dtype=np.float32)
    code_rng = np.random.default_rng(20_000 + args.seed)
    draw_codes = lambda n: (code_rng.uniform(-1, 1, (n, codes)).astype(np.float32) if args.continuous
                            else one_hot[code_rng.integers(0, codes, n)])
    probe = np.random.default_rng(10_000 + args.seed).standard_normal((example.SAMPLES, noise_dim), np.float32)
    if args.codes:
        probe = np.concatenate([probe, one_hot[np.arange(example.SAMPLES) % codes]], axis=1)
    elif args.continuous:
        uniform = np.random.default_rng(30_000).uniform(-1, 1, (example.SAMPLES, codes)).astype(np.float32)
        probe = np.concatenate([probe, uniform], axis=1)
    start_channel = args.channel if args.channel_start is None else args.channel_start
    beta_end = args.beta if args.beta_end is None else args.beta_end
    beta_at = lambda index: args.beta + (beta_end - args.beta) * max(0, index - args.warmup) / (
        args.steps - args.warmup)
    checkpoints = sorted({args.steps // 8, args.steps // 4, args.steps // 2, 3 * args.steps // 4, args.steps})
    snapshots, started = {}, time.perf_counter()
    for index, (real, z) in enumerate(stream(args.seed, args.steps), start=1):
        if codes:
            z = np.concatenate([z, draw_codes(len(z))], axis=1)
        channel = start_channel + (args.channel - start_channel) * min(1.0, index / args.ramp)
        generator, discriminator, g_state, d_state, critic = step(
            generator, discriminator, g_state, d_state, critic, real, z, jax.random.fold_in(key_channel, index),
            jnp.float32(channel), jnp.float32(beta_at(index)), args.beta > 0, index <= args.warmup)
        if index in checkpoints:
            snapshots[str(index)] = np.asarray(apply(generator, probe))
    scores = [example.quality(snapshots[str(c)]) for c in checkpoints]
    at_checkpoints = "  ".join(f"@{c}: {m}/25 {q:.0%}" for c, (m, q) in zip(checkpoints, scores))
    print(" ".join(sys.argv[1:]) or "(defaults)", "|", at_checkpoints, f"| {time.perf_counter() - started:.0f} s")
    if args.out:
        np.savez(args.out, **snapshots)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=example.STEPS["full"])
    parser.add_argument("--beta", type=float, default=1.0, help="the MI term's weight; 0: the plain GAN")
    parser.add_argument("--beta-end", type=float, default=None, help="the weight at the last step (linear from --beta)")
    parser.add_argument("--g-lr", type=float, default=example.G_LR)
    parser.add_argument("--d-lr", type=float, default=example.D_LR)
    parser.add_argument("--channel", type=float, default=0.0, help="std of the noise the MI critic sees added")
    parser.add_argument("--channel-start", type=float, default=None, help="the channel's std at step 0")
    parser.add_argument("--ramp", type=int, default=1, help="steps over which the channel grows to --channel")
    parser.add_argument("--codes", type=int, default=0, help="K: a K-way one-hot code beside the noise")
    parser.add_argument("--continuous", type=int, default=0, help="D: a code uniform on [-1, 1]^D beside the noise")
    parser.add_argument("--init-scale", type=float, default=1.0, help="factor on the generator's last layer at init")
    parser.add_argument("--warmup", type=int, default=0, help="first steps: the generator maximises the MI alone")
    parser.add_argument("--r1", type=float, default=0.0, help="weight of the discriminator's R1 penalty")
    parser.add_argument("--out", type=Path, default=None, help="an .npz file for the samples at the checkpoints")
    main(parser.parse_args())
