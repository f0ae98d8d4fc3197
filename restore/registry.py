"""An explicit name -> builder registry, one per pipeline stage.

Each stage keeps a :class:`Registry` of its backends. A backend is built on first use and
kept (models are loaded once); a backend that cannot run here reports why in one sentence
before anything is loaded, so the UI can grey it out and the CLI can exit cleanly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from restore.errors import BackendUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class BackendSpec(Generic[T]):
    """How to build one backend.

    builder: builds the backend on ``device`` (a ``torch.device`` string such as ``"cpu"``).
    check: returns ``None`` when the backend can run here, else one sentence saying why not
        (cheap: no model loads, no network).
    """

    name: str
    builder: Callable[[str], T]
    description: str
    check: Callable[[], str | None] | None = None


class Registry(Generic[T]):
    """Backends of one stage, by name, in registration order (the first is the default)."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._specs: dict[str, BackendSpec[T]] = {}
        self._built: dict[tuple[str, str], T] = {}
        self._lock = threading.Lock()

    def register(
        self,
        name: str,
        builder: Callable[[str], T],
        description: str,
        check: Callable[[], str | None] | None = None,
    ) -> None:
        if name in self._specs:
            raise ValueError(f"{self.stage} backend {name!r} is registered twice.")
        self._specs[name] = BackendSpec(name, builder, description, check)

    def names(self) -> list[str]:
        return list(self._specs)

    def spec(self, name: str) -> BackendSpec[T]:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(self._specs)
            raise ValueError(
                f"Unknown {self.stage} backend {name!r}; choose one of: {known}."
            ) from None

    def unavailable_reason(self, name: str) -> str | None:
        """``None`` if ``name`` can run here, else one sentence saying why it cannot."""
        spec = self.spec(name)
        return spec.check() if spec.check is not None else None

    def available(self) -> list[str]:
        return [n for n in self._specs if self.unavailable_reason(n) is None]

    def describe(self) -> list[tuple[str, str, str | None]]:
        """(name, description, reason-unavailable-or-None) for every backend."""
        return [(n, s.description, self.unavailable_reason(n)) for n, s in self._specs.items()]

    def get(self, name: str, device: str = "cpu") -> T:
        """The backend ``name`` on ``device``, built on first use and kept."""
        spec = self.spec(name)
        key = (name, device)
        with self._lock:
            if key not in self._built:
                reason = self.unavailable_reason(name)
                if reason is not None:
                    raise BackendUnavailable(reason)
                self._built[key] = spec.builder(device)
            return self._built[key]

    def forget(self) -> None:
        """Drop built backends (tests use it to exercise loading again)."""
        with self._lock:
            self._built.clear()


def missing_module_reason(module: str, package: str, what: str) -> str | None:
    """A check that only looks for an importable module, without importing it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return f"{what} needs the '{package}' package; install it with: pip install {package}."
    return None
