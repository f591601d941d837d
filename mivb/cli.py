"""The ``mivb`` command: ``mivb demo``, ``mivb bounds``, ``mivb backends``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from .backends import available_backends, registered
from .bounds import BOUNDS
from .data import correlated_gaussians, rho_for_mi
from .errors import MivbError
from .estimate import estimate


def demo(args: argparse.Namespace) -> None:
    rho = rho_for_mi(args.dim, args.mi)
    x, z, true_mi = correlated_gaussians(args.samples, args.dim, rho, seed=args.seed)
    print(f"Correlated Gaussians: {args.samples} pairs in {args.dim} dimensions, rho = {rho:.4f}, "
          f"true I(X; Z) = {true_mi:.3f} nats")
    print(f"{'bound':<9} {'estimate':>9} {'stderr':>8} {'error':>8} {'seconds':>8}  backend")
    for name in args.bounds:
        start = time.perf_counter()
        result = estimate(x, z, bound=name, backend=args.backend, steps=args.steps, seed=args.seed)
        seconds = time.perf_counter() - start
        print(f"{name:<9} {result.mi:>9.3f} {result.stderr:>8.3f} {result.mi - true_mi:>+8.3f} "
              f"{seconds:>8.1f}  {result.backend}")
        for note in result.notes:
            print(f"          note: {note}")


def list_bounds(args: argparse.Namespace) -> None:
    for spec in BOUNDS.values():
        params = ", ".join(f"{k}={v}" for k, v in spec.params.items() if k != "log_ema")
        print(f"{spec.name:<8} {spec.summary}; gradient follows {spec.gradient}" + (f" ({params})" if params else ""))


def list_backends(args: argparse.Namespace) -> None:
    here = set(available_backends())
    for name, spec in registered().items():
        status = "available" if name in here else f"not installed: {spec.install}"
        print(f"{name:<11} {status}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mivb", description="Mutual information from variational bounds.")
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="estimate the MI of correlated Gaussians and compare with the truth")
    run.add_argument("--backend", default=None, help="torch, jax or tensorflow (default: first installed)")
    run.add_argument("--bounds", nargs="+", default=["infonce", "smile", "mine"], choices=sorted(BOUNDS))
    run.add_argument("--dim", type=int, default=10)
    run.add_argument("--mi", type=float, default=3.0, help="true MI in nats")
    run.add_argument("--samples", type=int, default=20_000)
    run.add_argument("--steps", type=int, default=2000)
    run.add_argument("--seed", type=int, default=0)
    run.set_defaults(handler=demo)
    commands.add_parser("bounds", help="list the bounds").set_defaults(handler=list_bounds)
    commands.add_parser("backends", help="list the backends and what installs them").set_defaults(
        handler=list_backends)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.handler(args)
    except MivbError as error:
        print(f"mivb: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
