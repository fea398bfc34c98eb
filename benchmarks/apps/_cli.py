"""The command line shared by the ceiling servers."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def parse_port(
    prog: str, argv: Sequence[str] | None, *, modes: Sequence[str] = (),
    loops: Sequence[str] = (),
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    if modes:
        parser.add_argument("--mode", choices=modes, default=modes[0])
    if loops:
        parser.add_argument("--loop", choices=loops, default=loops[0])
    return parser.parse_args(argv)
