import pytest

from restore.errors import BackendUnavailable
from restore.registry import Registry, missing_module_reason


def test_registry_builds_once_and_reports_unavailable():
    built = []
    reg: Registry[object] = Registry("demo")
    reg.register("a", lambda device: built.append(device) or object(), "first")
    reg.register("b", lambda device: object(), "needs x", check=lambda: "b needs x.")
    assert reg.names() == ["a", "b"] and reg.available() == ["a"]
    assert reg.get("a") is reg.get("a") and built == ["cpu"]
    with pytest.raises(BackendUnavailable, match="b needs x"):
        reg.get("b")
    with pytest.raises(ValueError, match="choose one of: a, b"):
        reg.get("c")
    with pytest.raises(ValueError, match="twice"):
        reg.register("a", lambda device: object(), "again")
    assert reg.describe()[1] == ("b", "needs x", "b needs x.")


def test_missing_module_reason():
    assert missing_module_reason("json", "json", "x") is None
    reason = missing_module_reason("no_such_module_xyz", "no-such", "The thing")
    assert reason is not None and "pip install no-such" in reason


def test_lazy_references_import_on_first_use_and_take_options():
    """A "module:Name" builder is imported on first get and called with the registration's
    options (and device= when it takes one); a "module:Name" check gets the same options."""
    from restore.registry import resolve, takes_device

    reg: Registry[object] = Registry("demo")
    reg.register("frac", "fractions:Fraction", "no device parameter", numerator=3)
    reg.register("dev", "tests.test_registry:_Built", "takes a device",
                 "tests.test_registry:_reason", variant="b")
    reg.register("ok", "tests.test_registry:_Built.make", "a dotted name",
                 "tests.test_registry:_reason", variant="a")
    assert reg.get("frac") == 3 and reg.get("frac") is reg.get("frac")
    assert reg.describe()[1] == ("dev", "takes a device", "variant b cannot run here.")
    with pytest.raises(BackendUnavailable, match="variant b"):
        reg.get("dev")
    built = reg.get("ok", "meta")
    assert type(built).__name__ == "_Built" and (built.variant, built.device) == ("a", "meta")
    assert takes_device(_Built) and not takes_device(len)
    assert resolve("restore.registry:Registry.get") is Registry.get
    with pytest.raises(ValueError, match="package.module:Name"):
        resolve("restore.registry")


def test_registering_a_lazy_reference_imports_nothing():
    reg: Registry[object] = Registry("demo")
    reg.register("x", "no_such_module_xyz:Thing", "never built", "no_such_module_xyz:check")
    assert reg.names() == ["x"]
    with pytest.raises(ModuleNotFoundError):
        reg.available()


def test_register_variants_names_and_describes_each():
    reg: Registry[object] = Registry("demo")
    reg.register_variants("thing-{variant}", "tests.test_registry:_Built", "Thing {detail}.",
                          "tests.test_registry:_reason", {"a": "A (fast)", "b": "B (slow)"})
    assert reg.describe() == [("thing-a", "Thing A (fast).", None),
                              ("thing-b", "Thing B (slow).", "variant b cannot run here.")]
    assert reg.get("thing-a").variant == "a"  # type: ignore[attr-defined]


class _Built:
    def __init__(self, variant: str, device: str = "cpu") -> None:
        self.variant, self.device = variant, device

    @classmethod
    def make(cls, variant: str, device: str = "cpu") -> "_Built":
        return cls(variant, device)


def _reason(variant: str) -> str | None:
    return None if variant == "a" else f"variant {variant} cannot run here."
