"""Settings, read once from the environment and passed down.

Modelled on starlette's ``Config``: every setting has a prefix (``SCONES_``), a
cast and a default, and a bad value fails with a message naming the variable.
Nothing deeper than the CLI (or a test) reads ``os.environ`` for scones settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from scones.errors import ConfigError

T = TypeVar("T")

ENV_PREFIX: Final = "SCONES_"
DEFAULT_CIFAR_URL: Final = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
DEFAULT_CIFAR_MD5: Final = "eb9058c3a382ffc7106e4002c42a8d85"
DEFAULT_BUCKET: Final = "scones"


def _cast(environ: Mapping[str, str], name: str, cast: Callable[[str], T], default: T) -> T:
    key = ENV_PREFIX + name
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"Config '{key}' has value '{raw}'. Not a valid {getattr(cast, '__name__', 'value')}.",
            hint=f"unset {key} or give it a valid value",
        ) from exc


def _bool(raw: str) -> bool:
    mapping = {"true": True, "1": True, "yes": True, "on": True,
               "false": False, "0": False, "no": False, "off": False}
    try:
        return mapping[raw.strip().lower()]
    except KeyError as exc:
        raise ValueError(raw) from exc


_bool.__name__ = "bool"


@dataclass(frozen=True)
class Settings:
    """Where scones keeps its things, and where it gets its data from."""

    home: Path = field(default_factory=lambda: Path(".scones"))
    cifar_source: str = DEFAULT_CIFAR_URL
    bucket: str = DEFAULT_BUCKET
    progress: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            home=_cast(env, "HOME", lambda s: Path(s).expanduser(), Path(".scones")),
            cifar_source=_cast(env, "CIFAR_SOURCE", str, DEFAULT_CIFAR_URL),
            bucket=_cast(env, "BUCKET", str, DEFAULT_BUCKET),
            progress=_cast(env, "PROGRESS", _bool, True),
        )

    @property
    def store_root(self) -> Path:
        """The local store: ``<home>/store/<bucket>/<key>`` mirrors S3."""
        return self.home / "store"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    def default_uri(self, prefix: str = "") -> str:
        """The local-store URI of ``prefix`` in the default bucket."""
        return f"file://{self.store_root.resolve()}/{self.bucket}/{prefix}".rstrip("/")
