"""The same training written by hand in each framework with the fewest operations: the speed limit.

Each loop trains the critic mivb builds by default (2 x 256 ReLU, 32-d embedding) or a joint one on
sampled negatives, maximises InfoNCE with Adam at 5e-4 on the given batch indices, keeps the data
on the device, and never syncs with the host inside the loop.
"""

from __future__ import annotations

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
    return torch.stack(values).numpy()


LOOPS = {"torch": torch_loop}
