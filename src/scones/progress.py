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
