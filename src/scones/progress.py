"""Progress bars for long work (download, staging, training, load runs), on stderr via tqdm."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T] | None = None, *, enabled: bool = True, **kwargs: Any) -> Any:
    """A tqdm bar (or a silent stand-in when ``enabled`` is false) with scones' defaults."""
    from tqdm.auto import tqdm

    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("leave", False)
    kwargs.setdefault("mininterval", 0.2)
    return tqdm(iterable, disable=not enabled, **kwargs)


def iterate(iterable: Iterable[T], *, enabled: bool = True, **kwargs: Any) -> Iterator[T]:
    yield from progress(iterable, enabled=enabled, **kwargs)


def note(line: str) -> None:
    """A one-time notice for the person running scones (which functions are theirs, what a template left out),
    on stderr beside the progress bars, so it never mixes with a command's output on stdout."""
    import sys

    sys.stderr.write(line.rstrip("\n") + "\n")
