"""An explicit name -> builder registry, one per pipeline stage.

Each stage keeps a :class:`Registry` of its backends. A backend is built on first use and
kept (models are loaded once); a backend that cannot run here reports why in one sentence
before anything is loaded, so the UI can grey it out and the CLI can exit cleanly.

A builder or a check is usually a lazy reference, ``"package.module:Name"`` (``Name`` may be
dotted, e.g. ``"restore.inpainting.refiner:RefinedLimbInpainter.load"``): the module is
imported only when the backend is first checked or built, so registering a backend imports
nothing. A referenced builder is called with the registration's ``options`` as keywords, plus
``device=`` when its signature has a ``device`` parameter; a referenced check is called with
the same ``options`` (the variant both take). A plain callable still works where building
needs more than that.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from restore.errors import BackendUnavailable

T = TypeVar("T")
Builder = Callable[[str], T] | str  # a callable of the device, or "module:Name"
Check = Callable[[], str | None] | str | None  # None: always available


def resolve(ref: str) -> Any:
    """The object that ``"package.module:Name"`` (``Name`` may be dotted) refers to,
    importing the module now."""
    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"A lazy backend reference looks like 'package.module:Name', "
                         f"not {ref!r}.")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def takes_device(factory: Callable[..., Any]) -> bool:
    """Whether ``factory`` (a class or function) has a ``device`` parameter."""
    try:
        return "device" in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


@dataclass(frozen=True)
class BackendSpec(Generic[T]):
    """How to build one backend.

    builder: builds the backend on ``device`` (a ``torch.device`` string such as ``"cpu"``):
        a callable of the device, or a lazy ``"module:Name"`` reference (see the module
        docstring) called with ``options`` (and ``device=`` when it takes one).
    check: returns ``None`` when the backend can run here, else one sentence saying why not
        (cheap: no model loads, no network); a callable of nothing, or a lazy reference
        called with ``options``; None = always available.
    options: keyword arguments of a lazy builder and a lazy check (e.g. ``variant``).
    """

    name: str
    builder: Builder[T]
    description: str
    check: Check = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def build(self, device: str) -> T:
        """The backend on ``device`` (imports a lazy builder's module now)."""
        if not isinstance(self.builder, str):
            return self.builder(device)
        factory = resolve(self.builder)
        extra = {"device": device} if takes_device(factory) else {}
        return factory(**self.options, **extra)  # type: ignore[no-any-return]

    def unavailable_reason(self) -> str | None:
        """``None`` when the backend can run here, else the check's sentence."""
        if self.check is None:
            return None
        if isinstance(self.check, str):
            return resolve(self.check)(**self.options)  # type: ignore[no-any-return]
        return self.check()


class Registry(Generic[T]):
    """Backends of one stage, by name, in registration order (the first is the default)."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._specs: dict[str, BackendSpec[T]] = {}
        self._built: dict[tuple[str, str], T] = {}
        self._lock = threading.Lock()

    def register(self, name: str, builder: Builder[T], description: str, check: Check = None,
                 **options: Any) -> None:
        """Add backend ``name`` (see :class:`BackendSpec`); ``options``: keywords of a lazy
        builder and check. Nothing is imported or built here."""
        if name in self._specs:
            raise ValueError(f"{self.stage} backend {name!r} is registered twice.")
        self._specs[name] = BackendSpec(name, builder, description, check, dict(options))

    def register_variants(self, name: str, builder: str, description: str, check: str,
                          variants: Mapping[str, str]) -> None:
        """One backend per variant, in ``variants``' order: ``name`` and ``description`` are
        format strings of ``{variant}`` (the key) and ``{detail}`` (its value); the lazy
        ``builder`` and ``check`` are called with ``variant=`` (see :meth:`register`)."""
        for variant, detail in variants.items():
            self.register(name.format(variant=variant), builder,
                          description.format(variant=variant, detail=detail), check,
                          variant=variant)

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
        return self.spec(name).unavailable_reason()

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
                self._built[key] = spec.build(device)
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
