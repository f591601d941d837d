from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from mivb.clipping import clip_scale, global_norm
from mivb.compression import check_separable, embed_in_chunks
from mivb.critics import CriticConfig
from mivb.errors import invalid
from mivb.schedule import feature_shape
from mivb.scores import Scores
from mivb.spec import EstimatorSpec, check_batch_shapes, check_saved_identity, evaluation_batches, fit_schedule

from ._critics import build_critic
from ._ops import ops

# A batch's (value, mi_for_grads, state): what EstimatorSpec.objective returns, here on tensors.
Objective = tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]


class MIOutput(NamedTuple):
    mi: torch.Tensor
    mi_for_grads: torch.Tensor


class MIEstimator(nn.Module):
    """A trainable MI estimator for PyTorch training code.

    Calling it on a batch returns ``MIOutput(mi, mi_for_grads)``: the bound's value (detached) and
    the differentiable term to add to a loss, whose gradient is the one [the contract][the-bounds] prescribes (for
    ``mine``, the EMA-corrected surrogate). [`update`][] takes one optimiser step on the critic.
    The critic, MINE's EMA (buffer ``log_ema``) and the optimiser state are all in ``state_dict``.

    Args:
        dim_x, dim_z: feature sizes of x and z, or their shapes per sample ((C, H, W) for images).
        bound: a name of ``mivb.BOUNDS``: ``dv``, ``mine``, ``nwj``, ``infonce``, ``js``, ``smile``, ``tuba``,
            ``alpha`` (lower bounds), ``club`` (an upper bound), ``l1out`` (an estimate, no bound).
        critic: ``"joint"``, ``"separable"``, ``"bilinear"``, ``"conditional"``, a mapping or a
            ``mivb.CriticConfig``; None (default): ``"conditional"`` for the upper bounds, else ``"separable"``.
        lr: the critic's Adam learning rate.
        ema_decay: MINE's moving-average decay, in (0, 1).
        precision: ``"float32"``, or ``"bfloat16"`` / ``"float16"``: the critic runs under
            ``torch.autocast`` (float32 parameters; float16 steps scale the loss with a ``GradScaler``).
        compile: ``True`` compiles the batch's objective (critic and bound, its gradient too) and the
            optimiser's step with ``torch.compile``; a mapping passes its options, for example
            ``{"mode": "reduce-overhead"}`` (CUDA graphs on a GPU). The first steps then take the
            compilation's time (minutes on a small CPU); it pays on GPUs and long runs.
        **bound_params: ``clip`` for ``smile``, ``alpha`` for ``alpha``.

    Examples:
        A training loop (a fragment: the data, the model and its loss are yours):

        ```python
        estimator = MIEstimator(dim_x=2, dim_z=8, bound="mine")
        for x, z in loader:
            mi, mi_for_grads = estimator(x, z)
            scale = adaptive_clip_scale(loss, mi_for_grads, model.parameters())
            (loss - beta * scale * mi_for_grads).backward()  # maximise MI
            ...
            estimator.update(x, z)
        ```
    """

    def __init__(
        self,
        dim_x: int | tuple[int, ...],
        dim_z: int | tuple[int, ...],
        *,
        bound: str = "mine",
        critic: str | CriticConfig | dict[str, Any] | None = None,
        lr: float = 1e-4,
        ema_decay: float = 0.99,
        seed: int | None = None,
        precision: str = "float32",
        compile: bool | Mapping[str, Any] = False,
        **bound_params: Any,
    ):
        super().__init__()
        self.spec = EstimatorSpec.create(bound, critic, lr, ema_decay, seed, bound_params, precision=precision)
        self.bound, self.config = self.spec.bound, self.spec.critic
        self.shapes = (feature_shape("dim_x", dim_x), feature_shape("dim_z", dim_z))
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.critic = build_critic(*self.shapes, self.config, generator, baseline=self.spec.baseline)
        self.negatives = generator  # None: torch's global generator draws the sampled negatives
        for key, value in self.spec.initial_state(ops, torch.zeros(())).items():
            self.register_buffer(key, value)  # the bound's state (mine: log_ema), saved in state_dict
        # fused: one kernel per step, and the step count stays on the device (the default reads it
        # back to the host every step, a synchronisation on a GPU).
        self.optimizer = torch.optim.Adam(self.critic.parameters(), lr=self.spec.learning_rate, fused=True)
        self.scalers: dict[str, torch.amp.GradScaler] = {}  # float16's loss scaling, one per device type
        self._objective: Callable[..., Objective] = self._batch_objective
        self._optimizer_step: Callable[[], Any] = self.optimizer.step
        options = compile_options(compile)
        if options is not None:
            self._objective = torch.compile(self._batch_objective, fullgraph=True, **options)
            self._optimizer_step = torch.compile(self.optimizer.step, **options)  # torch breaks its graph once

    @property
    def bound_state(self) -> dict[str, torch.Tensor]:
        return {key: getattr(self, key) for key in self.spec.definition.state_names}

    def scores(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None) -> Scores:
        """The batch's scores: a [`mivb.scores.MatrixScores`][] or [`PairedScores`][]."""
        if self.config.negative_samples is not None and shifts is None:
            shifts = self._draw_shifts(x)
        with self.autocast(x.device):
            return self.spec.layout(ops, self.critic, x, z, shifts)

    def autocast(self, device: torch.device) -> torch.autocast:
        """The critic's precision: ``torch.autocast`` to it, or disabled for float32."""
        return torch.autocast(device.type, dtype=getattr(torch, self.spec.precision),
                              enabled=self.spec.precision != "float32")

    def _draw_shifts(self, x: torch.Tensor) -> torch.Tensor:
        self.spec.check_batch_size(x.shape[0])
        device = x.device if self.negatives is None else "cpu"
        shifts = torch.randperm(x.shape[0] - 1, generator=self.negatives, device=device)
        return (shifts[: self.config.negative_samples] + 1).to(x.device)

    def objective(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None, *, train: bool = True,
                  critic_step: bool = False, selection: bool = False) -> Objective:
        """The batch's ``(value, mi_for_grads, state)``, ``state`` being what [`update`][] would store;
        ``train=False`` (evaluation) reads the bound's state without folding this batch in;
        ``critic_step``: ``mi_for_grads`` follows what the critic's step maximises (for the upper
        bounds, q(z | x)'s likelihood); ``selection``: the value is the one that ranks critics (for the
        upper bounds, that likelihood)."""
        check_batch_shapes(tuple(x.shape), tuple(z.shape))
        if self.config.negative_samples is not None and shifts is None:
            shifts = self._draw_shifts(x)  # outside the compiled objective: it draws on the host
        return self._objective(x, z, shifts, train, critic_step, selection)

    def _batch_objective(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None, train: bool,
                         critic_step: bool, selection: bool) -> Objective:
        return self.spec.objective(self.scores(x, z, shifts), self.bound_state, train=train, critic_step=critic_step,
                                   selection=selection)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> MIOutput:
        value, mi_for_grads, _ = self.objective(x, z)
        return MIOutput(value.detach(), mi_for_grads)

    def update(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None) -> torch.Tensor:
        """One critic step on the batch (maximising the bound); returns the bound's value before it."""
        value, mi_for_grads, state = self.objective(x.detach(), z.detach(), shifts, critic_step=True)
        self.optimizer.zero_grad(set_to_none=True)
        scaler = self._scaler(x.device)
        torch.autograd.backward(scaler.scale(-mi_for_grads))  # Tensor.backward, which torch leaves untyped
        self.reduce_gradients()
        if scaler.is_enabled():
            scaler.step(self.optimizer)  # skips a float16 step whose gradients overflowed
            scaler.update()
        else:
            self._optimizer_step()
        with torch.no_grad():
            for key, new in state.items():
                getattr(self, key).copy_(new)
        return value.detach()

    def _scaler(self, device: torch.device) -> torch.amp.GradScaler:
        if device.type not in self.scalers:
            self.scalers[device.type] = torch.amp.GradScaler(device.type, enabled=self.spec.precision == "float16")
        return self.scalers[device.type]

    def reduce_gradients(self) -> None:
        """Combine the critic's gradients across processes before a step; nothing on one device."""

    def train_steps(self, x: torch.Tensor, z: torch.Tensor, batches: torch.Tensor,
                    shifts: torch.Tensor | None = None) -> torch.Tensor:
        """One [`update`][] per row of ``batches`` (indices into x and z); the values, on the device."""
        return torch.stack([self.update(x[index], z[index], None if shifts is None else shifts[step])
                            for step, index in enumerate(batches)])

    @torch.no_grad()
    def batch_values(self, x: torch.Tensor, z: torch.Tensor, batches: torch.Tensor,
                     shifts: torch.Tensor | None = None, selection: bool = False) -> torch.Tensor:
        """The bound on each row of ``batches`` (``selection``: what ranks critics); neither critic nor state changes."""
        return torch.stack([self.objective(x[index], z[index], None if shifts is None else shifts[step],
                                           train=False, selection=selection)[0] for step, index in enumerate(batches)])

    def fit(self, x: Any, z: Any, *, steps: int = 1000, batch_size: int = 128, seed: int | None = None) -> torch.Tensor:
        """Train the critic on static data (NumPy arrays or tensors); returns the value at each step."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        batches = fit_schedule(x.shape[0], steps, batch_size, seed)
        return self.train_steps(x, z, torch.as_tensor(batches, device=x.device))

    def evaluate(self, x: Any, z: Any, *, batch_size: int = 128) -> float:
        """The bound on new data, averaged over consecutive batches; the state is left untouched."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        batches = evaluation_batches(x.shape[0], batch_size)
        return float(self.batch_values(x, z, torch.as_tensor(batches, device=x.device)).mean())

    @torch.no_grad()
    def pointwise(self, x: Any, z: Any) -> np.ndarray:
        """Each pair's estimated log density ratio log p(x, z) / (p(x) p(z)) (``mivb.pointwise``)."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        return self.spec.pointwise(lambda i: self._full_scores(x[i], z[i]), x.shape[0])

    def _full_scores(self, x: torch.Tensor, z: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        baseline = self.critic.row_baseline(x, z)
        return self.critic(x, z).cpu().numpy(), None if baseline is None else baseline.cpu().numpy()

    @torch.no_grad()
    def embed(self, x: Any, z: Any) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's embeddings under a separable critic, (f(x), g(z)) (the bilinear's (f(x) W, g(z))),
        float64, in chunks: what ``mivb.compression`` reads the copula on."""
        check_separable(self.config)
        x, z = self._as_tensor(x), self._as_tensor(z)
        return embed_in_chunks(lambda i: tuple(a.cpu().numpy() for a in self.critic.features(x[i], z[i])), x.shape[0])

    def get_extra_state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "spec": self.spec.identity(self.shapes),
                "loss_scalers": {device: scaler.state_dict() for device, scaler in self.scalers.items()
                                 if scaler.is_enabled()}}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        for device, scaler_state in state.get("loss_scalers", {}).items():  # float16's loss scale, once stepped
            self._scaler(torch.device(device)).load_state_dict(scaler_state)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        # Checked before anything is copied: a state of another estimator must not half-load.
        extra = state_dict.get("_extra_state")
        check_saved_identity("state_dict", extra.get("spec") if isinstance(extra, Mapping) else None,
                             self.spec.identity(self.shapes))
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _as_tensor(self, a: Any) -> torch.Tensor:
        parameter = next(self.critic.parameters())
        tensor = torch.as_tensor(a, dtype=parameter.dtype, device=parameter.device)
        return tensor[:, None] if tensor.ndim == 1 else tensor


def compile_options(compile: Any) -> dict[str, Any] | None:
    """``torch.compile``'s options for ``compile=``: None for False."""
    if compile is False:
        return None
    if compile is True:
        return {}
    if isinstance(compile, Mapping) and "fullgraph" not in compile:
        return dict(compile)
    raise invalid("compile", "True, False, or a mapping of torch.compile options other than fullgraph "
                  "(the objective always compiles whole)", compile)


def adaptive_clip_scale(loss: torch.Tensor, mi: torch.Tensor, params: Iterable[torch.Tensor]) -> torch.Tensor:
    """The factor of ``loss + beta * scale * mi`` (MINE's adaptive gradient clipping, docs/bounds.md).

    Gradients of ``loss`` and ``mi`` with respect to ``params`` are taken without consuming the
    graph; the factor carries no gradient.
    """
    trained = [p for p in params if p.requires_grad]
    grads = [torch.autograd.grad(term, trained, retain_graph=True, allow_unused=True) for term in (loss, mi)]
    norms = [global_norm(ops, [torch.zeros_like(p) if g is None else g for g, p in zip(gs, trained)]) for gs in grads]
    scale: torch.Tensor = clip_scale(ops, *norms)
    return scale
