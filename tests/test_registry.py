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
