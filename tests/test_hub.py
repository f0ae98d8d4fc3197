import importlib.util
from pathlib import Path

import pytest

from restore import hub
from restore.errors import BackendUnavailable


def test_offline_flags(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("STATUE_RESTORE_OFFLINE", raising=False)
    assert not hub.offline()
    monkeypatch.setenv("STATUE_RESTORE_OFFLINE", "yes")
    assert hub.offline()


def test_uncached_model_offline_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    model = hub.HubModel("statue-restore/does-not-exist", "v0.0.0")
    with pytest.raises(BackendUnavailable) as err:
        hub.snapshot(model)
    message = str(err.value)
    assert "offline" in message and "\n" not in message and message.endswith(".")
    assert not hub.cached(model)


def test_upload_dry_run_lists_exactly_the_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "README.md").write_text("card")
    files = hub.upload_folder(tmp_path, "someone/model", dry_run=True)
    assert files == ["config.json", "model.safetensors", "sub/README.md"]


def test_upload_tags_the_upload_commit(tmp_path, monkeypatch):
    """The real upload path, with the Hub client replaced by a recorder (no network)."""
    import types

    import huggingface_hub

    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, exist_ok=False):
            calls.append(("create_repo", repo_id, exist_ok))

        def upload_folder(self, folder_path, repo_id, commit_message):
            calls.append(("upload_folder", sorted(p.name for p in Path(folder_path).iterdir())))
            return types.SimpleNamespace(oid="a" * 40)

        def list_repo_refs(self, repo_id):
            return types.SimpleNamespace(tags=[types.SimpleNamespace(name=t) for t in tags])

        def create_tag(self, repo_id, tag, revision=None, exist_ok=False):
            calls.append(("create_tag", repo_id, tag, revision, exist_ok))
            tags.append(tag)

    tags: list[str] = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(hub, "offline", lambda: False)
    (tmp_path / "config.json").write_text("{}")
    files = hub.upload_folder(tmp_path, "me/gan", token="t", tag="v0.1.0")
    assert files == ["config.json"]
    assert calls == [("init", "t"), ("create_repo", "me/gan", True),
                     ("upload_folder", ["config.json"]),
                     ("create_tag", "me/gan", "v0.1.0", "a" * 40, False)]
    # pushing again under the same tag would move a pin: refused before anything is uploaded
    calls.clear()
    with pytest.raises(ValueError, match="never moved"):
        hub.upload_folder(tmp_path, "me/gan", token="t", tag="v0.1.0")
    assert not any(c[0] == "upload_folder" for c in calls)


def test_shipped_dir_needs_a_config_and_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path)
    model = hub.HubModel("a/b", "v1", local_dir="m")
    assert hub.shipped_dir(model) is None
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    assert hub.shipped_dir(model) is None
    (tmp_path / "m" / "model.safetensors").write_bytes(b"x")
    assert hub.shipped_dir(model) == tmp_path / "m"


def test_the_shipped_weights_live_inside_the_package():
    import restore

    assert hub.WEIGHTS_DIR == Path(restore.__file__).resolve().parent / "weights"


def test_resolve_weights_env_then_package_then_hub(tmp_path, monkeypatch):
    """The one order every learned model uses, and weights_reason agreeing with it."""
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "package")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("X_WEIGHTS", raising=False)
    model = hub.HubModel("statue-restore/absent", "v0.0.0", local_dir="m")
    fetched = []
    real_snapshot = hub.snapshot

    def snapshot(m, allow_patterns=None, env_var=None):
        fetched.append(m)
        return real_snapshot(m, allow_patterns, env_var)

    monkeypatch.setattr(hub, "snapshot", snapshot)
    # nothing anywhere, offline: the Hub step's one sentence
    with pytest.raises(BackendUnavailable, match="offline mode") as err:
        hub.resolve_weights(model, "X_WEIGHTS", "thing")
    assert fetched == [model] and "\n" not in str(err.value)
    assert "set X_WEIGHTS to a local copy" in str(err.value)  # what to do, not "a local path"
    reason = hub.weights_reason(model, "X_WEIGHTS", "thing") or ""
    assert "neither shipped in the package nor in the Hub cache" in reason
    assert "X_WEIGHTS" in reason
    # the package's copy
    package = tmp_path / "package" / "m"
    package.mkdir(parents=True)
    (package / "config.json").write_text("{}")
    (package / "model.safetensors").write_bytes(b"x")
    assert hub.resolve_weights(model, "X_WEIGHTS", "thing") == package
    assert hub.weights_reason(model, "X_WEIGHTS", "thing") is None
    # the environment variable wins over the package's copy
    env = tmp_path / "env"
    env.mkdir()
    (env / "config.json").write_text("{}")
    monkeypatch.setenv("X_WEIGHTS", str(env))
    assert hub.resolve_weights(model, "X_WEIGHTS", "thing") == env
    # ... and a set variable naming an empty folder is an error, never passed over
    (env / "config.json").unlink()
    with pytest.raises(BackendUnavailable, match="X_WEIGHTS=.* holds no config.json"):
        hub.resolve_weights(model, "X_WEIGHTS", "thing")
    assert "holds no config.json" in (hub.weights_reason(model, "X_WEIGHTS", "thing") or "")
    assert len(fetched) == 1


def test_resolve_weights_online_goes_to_the_pinned_hub_revision(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path)
    monkeypatch.delenv("X_WEIGHTS", raising=False)
    monkeypatch.setattr(hub, "snapshot",
                        lambda m, allow_patterns=None, env_var=None: tmp_path / m.revision)
    model = hub.HubModel("statue-restore/absent", "v9.9.9", local_dir="m")
    assert hub.resolve_weights(model, "X_WEIGHTS") == tmp_path / "v9.9.9"


LEARNED = {  # model: (module holding its pin, the pin's key, its environment variable)
    "gan": ("restore.inpainting.learned", "inpaint-gan", "STATUE_RESTORE_GAN_WEIGHTS"),
    "unet": ("restore.inpainting.learned", "inpaint-unet", "STATUE_RESTORE_UNET_WEIGHTS"),
    "statue-net": ("restore.perception", "statue-net", "STATUE_RESTORE_STATUE_NET_WEIGHTS"),
    "statue-depth": ("restore.reconstruction", "statue-depth",
                     "STATUE_RESTORE_STATUE_DEPTH_WEIGHTS"),
    "arm-presence": ("restore.masking.arm_net", "arm-presence",
                     "STATUE_RESTORE_ARM_PRESENCE_WEIGHTS"),
}  # the limb refiner ships no weights and has no pin: tests/test_inpainting_refiner.py


def _sources():
    """Each learned model's own loader entry point, as a function of nothing."""
    from restore.inpainting import learned
    from restore.masking import arm_net
    from restore.perception import weights_folder
    from restore.reconstruction import statue_depth_weights

    return {"gan": lambda: learned.weights_source("gan"),
            "unet": lambda: learned.weights_source("unet"),
            "statue-net": weights_folder, "statue-depth": statue_depth_weights,
            "arm-presence": arm_net.weights_folder}


@pytest.mark.parametrize("name", list(LEARNED))
def test_every_learned_model_uses_the_one_resolver(name, tmp_path, monkeypatch):
    """Every learned model is pinned with a folder in restore/weights/, and its loader finds
    its environment variable's folder first, then the package's copy, then the Hub."""
    import importlib

    module, key, env = LEARNED[name]
    importlib.import_module(module)
    model = hub.HUB_MODELS[key]
    assert model.local_dir == key
    source = _sources()[name]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(env, str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    assert Path(source()) == tmp_path
    monkeypatch.delenv(env)
    if hub.shipped_dir(model) is not None:
        assert Path(source()) == hub.WEIGHTS_DIR / key
    monkeypatch.setattr(hub, "WEIGHTS_DIR", tmp_path / "none")
    monkeypatch.setattr(hub, "snapshot",
                        lambda m, allow_patterns=None, env_var=None: tmp_path / m.revision)
    assert Path(source()) == tmp_path / model.revision


@pytest.mark.parametrize("name", ["gan", "unet", "statue-net", "statue-depth", "arm-presence"])
def test_the_five_shipped_models_are_in_the_package(name, monkeypatch):
    import importlib

    module, key, env = LEARNED[name]
    importlib.import_module(module)
    monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.resolve_weights(hub.HUB_MODELS[key], env) == hub.WEIGHTS_DIR / key
    for f in (hub.WEIGHTS_DIR / key).iterdir():
        assert f.stat().st_size < 25 * 2**20, f"{f} is over 25 MB"


def test_pins_are_unique():
    hub.register_hub_model("test-pin", hub.HubModel("a/b", "v1"))
    hub.register_hub_model("test-pin", hub.HubModel("a/b", "v1"))
    with pytest.raises(ValueError, match="twice"):
        hub.register_hub_model("test-pin", hub.HubModel("a/b", "v2"))
    del hub.HUB_MODELS["test-pin"]


def test_download_command_prints_path_or_one_error_line(capsys, tmp_path):
    def ok(variant):
        return tmp_path / variant

    def offline_download(variant):
        raise BackendUnavailable(f"Offline mode is on; cannot download {variant}.")

    assert hub.download_main(["--download", "a"], "d", ["a", "b"], ok) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "a")
    assert hub.download_main(["--download", "b"], "d", ["a", "b"], offline_download) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: Offline mode is on; cannot download b."]


def test_weights_reason_env_cache_offline(monkeypatch, tmp_path):
    model = hub.HubModel("statue-restore/absent", "v0")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("X_WEIGHTS", raising=False)
    reason = hub.weights_reason(model, "X_WEIGHTS", "thing")
    assert reason is not None and "offline" in reason and "X_WEIGHTS" in reason
    monkeypatch.setenv("X_WEIGHTS", str(tmp_path))
    assert "holds no config.json" in (hub.weights_reason(model, "X_WEIGHTS", "thing") or "")
    (tmp_path / "config.json").write_text("{}")
    assert hub.weights_reason(model, "X_WEIGHTS", "thing") is None
    monkeypatch.delenv("X_WEIGHTS")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert hub.weights_reason(model, "X_WEIGHTS", "thing") is None  # online: it will download


def test_every_pin_is_a_commit_or_a_version_tag():
    import re

    import restore.inpainting.diffusion  # noqa: F401  (each backend declares its pins)
    import restore.inpainting.learned  # noqa: F401
    import restore.reconstruction.depth  # noqa: F401
    import restore.reconstruction.dust3r  # noqa: F401
    from restore.hub import HUB_MODELS

    assert len(HUB_MODELS) >= 5
    for key, model in HUB_MODELS.items():
        assert re.fullmatch(r"[0-9a-f]{40}|v\d+\.\d+\.\d+", model.revision), (key, model)


@pytest.mark.parametrize("model", ["statue-net", "statue-depth"])
def test_push_dry_run_of_the_perception_and_depth_models(tmp_path, model):
    import argparse

    from restore.inpainting.learned import add_hub_parser, run_hub, stage_upload

    parser = argparse.ArgumentParser()
    add_hub_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["hub", "push", "--model", model, "--repo-id", f"me/{model}",
                              "--dry-run"])
    first, *card_lines = run_hub(args).splitlines()
    assert first == (f"would upload to me/{model}: README.md, config.json, eval.json, "
                     "model.safetensors")
    assert card_lines[0].startswith(f"  card: model-index 'statue-restore {model}'")
    card = (stage_upload(model, tmp_path) / "README.md").read_text()
    assert card.startswith("---\nlicense: mit") and "model-index" in card  # a real Hub card


@pytest.mark.parametrize("which", ["statue-net", "statue-depth"])
def test_load_pretrained_reports_a_corrupt_copy_in_one_sentence(tmp_path, which):
    from restore.perception.net import StatueNet
    from restore.reconstruction.depth_net import StatueDepthNet

    cls = StatueNet if which == "statue-net" else StatueDepthNet
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"truncated")
    with pytest.raises(BackendUnavailable, match=f"The {which} weights in .* do not load") as err:
        hub.load_pretrained(cls, tmp_path, which)
    assert "\n" not in str(err.value)


def test_a_weights_file_missing_tensors_is_refused_not_left_random(tmp_path):
    """strict loading: half a state dict is a bad copy, not a model with random layers."""
    from safetensors.torch import load_file, save_file

    from restore.inpainting.refiner import LimbRefiner

    LimbRefiner(width=8, dilations=(1, 2)).save_pretrained(str(tmp_path))
    tensors = load_file(str(tmp_path / "model.safetensors"))
    half = dict(list(tensors.items())[: len(tensors) // 2])
    save_file(half, str(tmp_path / "model.safetensors"))
    with pytest.raises(BackendUnavailable, match="do not load"):
        hub.load_pretrained(LimbRefiner, tmp_path, "limb-refiner")


@pytest.mark.skipif(importlib.util.find_spec("tensorflow_hub") is None,
                    reason="tensorflow_hub is not installed (requirements.txt)")
def test_movenets_download_path_imports_and_a_broken_one_is_named(monkeypatch):
    import subprocess
    import sys

    # tensorflow_hub imports pkg_resources, gone from setuptools 81 (requirements.txt pins it)
    proc = subprocess.run([sys.executable, "-c", "import tensorflow_hub"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-300:]
    monkeypatch.setattr(hub, "offline", lambda: False)
    monkeypatch.setitem(sys.modules, "tensorflow_hub", None)  # as a broken install imports
    with pytest.raises(BackendUnavailable, match="tensorflow_hub does not import here") as err:
        hub.resolve_tfhub("https://tfhub.dev/x/1", "MoveNet thunder", "STATUE_RESTORE_MOVENET")
    assert "network" not in str(err.value) and "STATUE_RESTORE_MOVENET" in str(err.value)
