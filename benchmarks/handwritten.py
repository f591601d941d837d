"""The same training written by hand in each framework with the fewest operations: the speed limit.

Each loop trains the critic mivb builds by default (2 x 256 ReLU, 32-d embedding) or a joint one on
sampled negatives, maximises InfoNCE with Adam at 5e-4 on the given batch indices, keeps the data
on the device, and never syncs with the host inside the loop. Each returns the values and the
seconds taken by every step after the first (which compiles, in JAX and TensorFlow).
"""

from __future__ import annotations

import time

import numpy as np


def torch_loop(x: np.ndarray, z: np.ndarray, batches: np.ndarray, kind: str, shifts: np.ndarray | None):
    import torch
    from torch import nn

    def mlp(dim_in, dim_out):
        return nn.Sequential(nn.Linear(dim_in, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, dim_out))

    torch.manual_seed(0)
    x, z, index = torch.as_tensor(x), torch.as_tensor(z), torch.as_tensor(batches)
    if kind == "separable":
        f, g = mlp(x.shape[1], 32), mlp(z.shape[1], 32)
        params = [*f.parameters(), *g.parameters()]
    else:
        net = mlp(x.shape[1] + z.shape[1], 1)
        params = list(net.parameters())
        shifts_t = torch.as_tensor(shifts)
        rows = torch.arange(batches.shape[1])
    optimiser = torch.optim.Adam(params, lr=5e-4)
    values = []
    for step, i in enumerate(index):
        if step == 1:
            start = time.perf_counter()
        xb, zb = x[i], z[i]
        if kind == "separable":
            scores = f(xb) @ g(zb).T
            value = (scores.diagonal() - scores.logsumexp(1)).mean()
        else:
            k = shifts_t.shape[1]
            negatives = zb[(rows[:, None] + shifts_t[step][None, :]) % len(rows)]
            pos = net(torch.cat([xb, zb], 1))
            neg = net(torch.cat([xb[:, None].expand(-1, k, -1), negatives], -1)).squeeze(-1)
            value = (pos.squeeze(-1) - torch.logsumexp(torch.cat([pos, neg], 1), 1)).mean()
        optimiser.zero_grad()
        (-value).backward()
        optimiser.step()
        values.append(value.detach())
    values = torch.stack(values).numpy()
    return values, time.perf_counter() - start


def jax_loop(x: np.ndarray, z: np.ndarray, batches: np.ndarray, kind: str, shifts: np.ndarray | None):
    import jax
    import jax.numpy as jnp
    import optax

    def init(key, sizes):
        keys = jax.random.split(key, len(sizes) - 1)
        return [(jax.random.uniform(k, (a, b), minval=-1, maxval=1) / jnp.sqrt(a), jnp.zeros(b))
                for k, a, b in zip(keys, sizes[:-1], sizes[1:])]

    def mlp(params, h):
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        return h @ w + b

    key_f, key_g = jax.random.split(jax.random.key(0))
    if kind == "separable":
        params = (init(key_f, [x.shape[1], 256, 256, 32]), init(key_g, [z.shape[1], 256, 256, 32]))
    else:
        params = init(key_f, [x.shape[1] + z.shape[1], 256, 256, 1])
    optimiser = optax.adam(5e-4)
    x, z = jnp.asarray(x), jnp.asarray(z)

    def value(params, i, shift):
        xb, zb = x[i], z[i]
        if kind == "separable":
            scores = mlp(params[0], xb) @ mlp(params[1], zb).T
            return jnp.mean(jnp.diagonal(scores) - jax.nn.logsumexp(scores, axis=1))
        negatives = zb[(jnp.arange(len(i))[:, None] + shift[None, :]) % len(i)]
        pos = mlp(params, jnp.concatenate([xb, zb], 1))
        neg = mlp(params, jnp.concatenate([jnp.broadcast_to(xb[:, None], (*negatives.shape[:2], xb.shape[1])),
                                           negatives], -1))[..., 0]
        return jnp.mean(pos[:, 0] - jax.nn.logsumexp(jnp.concatenate([pos, neg], 1), axis=1))

    @jax.jit
    def step(params, state, i, shift):
        v, grads = jax.value_and_grad(lambda p: -value(p, i, shift))(params)
        updates, state = optimiser.update(grads, state, params)
        return optax.apply_updates(params, updates), state, -v

    state = optimiser.init(params)
    index = jnp.asarray(batches)
    shift_rows = jnp.asarray(shifts) if shifts is not None else jnp.zeros((len(batches), 1), jnp.int32)
    values = []
    for count, (i, shift) in enumerate(zip(index, shift_rows)):
        if count == 1:
            jax.block_until_ready(values[0])
            start = time.perf_counter()
        params, state, v = step(params, state, i, shift)
        values.append(v)
    values = np.asarray(jnp.stack(values))
    return values, time.perf_counter() - start


def tensorflow_loop(x: np.ndarray, z: np.ndarray, batches: np.ndarray, kind: str, shifts: np.ndarray | None):
    import tensorflow as tf

    def mlp(dim_out):
        return tf.keras.Sequential([tf.keras.layers.Dense(256, activation="relu"),
                                    tf.keras.layers.Dense(256, activation="relu"), tf.keras.layers.Dense(dim_out)])

    tf.keras.utils.set_random_seed(0)
    x, z = tf.constant(x), tf.constant(z)
    nets = [mlp(32), mlp(32)] if kind == "separable" else [mlp(1)]
    inputs = [x.shape[1], z.shape[1]] if kind == "separable" else [x.shape[1] + z.shape[1]]
    for net, width in zip(nets, inputs):
        net.build((None, width))  # variables made before the first tape, so the tape watches them
    optimiser = tf.keras.optimizers.Adam(5e-4)

    @tf.function
    def step(i, shift):
        xb, zb = tf.gather(x, i), tf.gather(z, i)
        with tf.GradientTape() as tape:
            if kind == "separable":
                scores = tf.matmul(nets[0](xb), nets[1](zb), transpose_b=True)
                value = tf.reduce_mean(tf.linalg.diag_part(scores) - tf.reduce_logsumexp(scores, axis=1))
            else:
                n, k = tf.shape(i, out_type=shift.dtype)[0], tf.shape(shift)[0]
                negatives = tf.gather(zb, (tf.range(n)[:, None] + shift[None, :]) % n)
                pos = nets[0](tf.concat([xb, zb], 1))
                pairs = tf.concat([tf.repeat(xb[:, None], k, axis=1), negatives], -1)
                neg = tf.reshape(nets[0](tf.reshape(pairs, [-1, inputs[0]])), [n, k])
                value = tf.reduce_mean(pos[:, 0] - tf.reduce_logsumexp(tf.concat([pos, neg], 1), axis=1))
            loss = -value
        variables = [v for net in nets for v in net.trainable_variables]
        optimiser.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return value

    shift_rows = shifts if shifts is not None else np.zeros((len(batches), 1), np.int64)
    values = [step(tf.constant(batches[0]), tf.constant(shift_rows[0])).numpy()]
    start = time.perf_counter()
    values += [step(tf.constant(i), tf.constant(s)) for i, s in zip(batches[1:], shift_rows[1:])]
    values = np.asarray(tf.stack(values))
    return values, time.perf_counter() - start


LOOPS = {"torch": torch_loop, "jax": jax_loop, "tensorflow": tensorflow_loop}
