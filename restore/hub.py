"""The one module that touches the network: Hugging Face Hub downloads and uploads.

Every remote model the product can use is listed in :data:`HUB_MODELS` with a pinned
revision. Downloads go through the Hub cache, so a model fetched once works offline later
(``HF_HUB_OFFLINE=1``). When a model is neither cached nor reachable, callers get a
:class:`~restore.errors.BackendUnavailable` with one sentence, never a stack of HTTP errors.

Every learned model of the product finds its weights the same way, through
:func:`resolve_weights` (and :func:`weights_reason`, the same order without loading):

1. the folder named by the model's environment variable (e.g. ``STATUE_RESTORE_GAN_WEIGHTS``);
2. the copy shipped inside the installed package, ``restore/weights/<model>/``
   (:data:`WEIGHTS_DIR`, package data: a plain ``pip install`` carries it);
3. the pinned Hub revision (the local Hub cache, else a download when online).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restore.errors import BackendUnavailable

# The copies shipped with the package (package data, installed by ``pip install``).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class HubModel:
    """A model on the Hub. ``revision`` is pinned: a commit hash or an immutable tag."""

    repo_id: str
    revision: str
    local_dir: str | None = None  # folder of WEIGHTS_DIR (restore/weights/) shipped, if any


# One place for every repo id and revision the product downloads.
HUB_MODELS: dict[str, HubModel] = {}


def register_hub_model(key: str, model: HubModel) -> HubModel:
    """Record ``model``'s pin under ``key`` in :data:`HUB_MODELS` (ValueError if ``key`` is
    already pinned differently); returns ``model``."""
    if key in HUB_MODELS and HUB_MODELS[key] != model:
        raise ValueError(f"Hub model {key!r} is declared twice with different pins.")
    HUB_MODELS[key] = model
    return model


def offline() -> bool:
    """True when the user asked for no network (``HF_HUB_OFFLINE`` / ``STATUE_RESTORE_OFFLINE``)."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("STATUE_RESTORE_OFFLINE", ""))
    return any(f.strip().lower() in ("1", "true", "yes", "on") for f in flags)


@contextlib.contextmanager
def as_if_offline() -> Iterator[None]:
    """Meanwhile :func:`offline` is True: availability checks then say whether a backend's
    weights are already here, not whether a download could fetch them."""
    saved = os.environ.get("STATUE_RESTORE_OFFLINE")
    os.environ["STATUE_RESTORE_OFFLINE"] = "1"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["STATUE_RESTORE_OFFLINE"]
        else:
            os.environ["STATUE_RESTORE_OFFLINE"] = saved


def shipped_dir(model: HubModel) -> Path | None:
    """The copy of ``model`` shipped in the package (``restore/weights/<local_dir>``), if it
    is there: a ``config.json`` and a ``model.safetensors``."""
    if model.local_dir is None:
        return None
    path = WEIGHTS_DIR / model.local_dir
    whole = (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    return path if whole else None


def local_weights(model: HubModel, env_var: str, what: str, marker: str = "config.json"
                  ) -> Path | None:
    """Steps 1 and 2 of :func:`resolve_weights`, without the network: the ``$env_var``
    folder, else the package's copy, else None. BackendUnavailable (one sentence) when
    ``$env_var`` is set but its folder holds no ``marker``: a set variable is never
    silently passed over."""
    local = os.environ.get(env_var)
    if local:
        if (Path(local) / marker).is_file():
            return Path(local)
        raise BackendUnavailable(
            f"{env_var}={local} holds no {marker}; point it at a saved {what} folder.")
    return shipped_dir(model)


def resolve_weights(model: HubModel, env_var: str, what: str | None = None,
                    marker: str = "config.json") -> Path:
    """The one place a learned model's weights are found: the folder named by ``$env_var``,
    else the copy shipped inside the installed package, else the pinned Hub snapshot of
    ``model`` (the cache, or a download when online). BackendUnavailable with one sentence
    when none of them can be had (see :func:`local_weights` and :func:`snapshot`)."""
    local = local_weights(model, env_var, what or model.repo_id, marker)
    return local if local is not None else snapshot(model, env_var=env_var)


def snapshot(model: HubModel, allow_patterns: list[str] | None = None,
             env_var: str | None = None) -> Path:
    """Local folder with ``model``'s files: the cache if present, else a pinned download.

    Raises BackendUnavailable with one sentence when offline and not cached, or unreachable;
    it names ``env_var``, the variable that points at a local copy instead, when given.
    """
    local = f"set {env_var} to a local copy" if env_var else "put a copy in the Hub cache"
    from huggingface_hub import snapshot_download

    try:
        return Path(
            snapshot_download(
                model.repo_id,
                revision=model.revision,
                allow_patterns=allow_patterns,
                local_files_only=True,
            )
        )
    except Exception:  # noqa: BLE001 - not cached: fall through to a download
        pass
    if offline():
        raise BackendUnavailable(
            f"{model.repo_id}@{model.revision} is not in the local Hub cache and offline mode "
            f"is on; download it once with network access, or {local}."
        )
    try:
        return Path(
            snapshot_download(model.repo_id, revision=model.revision, allow_patterns=allow_patterns)
        )
    except Exception as err:  # noqa: BLE001 - any network/HTTP failure reads the same to a user
        raise BackendUnavailable(
            f"Could not download {model.repo_id}@{model.revision} from the Hugging Face Hub "
            f"({err.__class__.__name__}); check the network, or {local}."
        ) from None


def download_file(model: HubModel, filename: str) -> Path:
    """One file of ``model`` (cached, pinned); same errors as :func:`snapshot`."""
    return snapshot(model, allow_patterns=[filename]) / filename


def cached(model: HubModel, marker: str = "config.json") -> bool:
    """True when ``model``'s ``marker`` file is already in the local Hub cache (no network)."""
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(model.repo_id, marker, revision=model.revision)
    return isinstance(hit, str)


def weights_reason(model: HubModel, env_var: str, what: str, marker: str = "config.json",
                   hint: str = "download them once with network access") -> str | None:
    """The cheap availability check every Hub-backed backend shares (files only, no network),
    in :func:`resolve_weights`'s order.

    None when ``what`` can load: ``$env_var`` names a folder holding ``marker``, the package
    ships its copy, the pinned revision is cached, or we are online (it will download).
    Else one sentence saying why not and how to fix it.
    """
    try:
        if local_weights(model, env_var, what, marker) is not None:
            return None
    except BackendUnavailable as err:
        return str(err)
    if cached(model, marker) or not offline():
        return None
    where = ("neither shipped in the package nor in the Hub cache" if model.local_dir
             else "not in the Hub cache")
    return (f"The {what} weights ({model.repo_id}) are {where} and offline mode is on; "
            f"{hint} or set {env_var} to a local copy.")


def load_pretrained(cls: Any, source: str | Path, what: str) -> Any:
    """``cls.from_pretrained(source)`` (a PyTorchModelHubMixin model), with a corrupt,
    truncated or mismatched ``model.safetensors`` / ``config.json`` reported as one sentence
    (BackendUnavailable) instead of a stack of loader internals."""
    try:
        return cls.from_pretrained(str(source), strict=True)  # no layer left random
    except Exception as err:  # noqa: BLE001 - every way a bad copy fails reads the same
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
        raise BackendUnavailable(
            f"The {what} weights in {source} do not load ({err.__class__.__name__}"
            f"{': ' + first if first else ''}); replace them with a fresh copy "
            "(reinstall the package, git checkout restore/weights/, or the Hub).") from None


def pretrained_folder(model: HubModel, path: str | Path | None, env_var: str) -> Path:
    """Where a transformers-style pretrained model (``config.json`` + ``model.safetensors``)
    is read from: ``path``, else ``$env_var``, else the pinned snapshot of ``model`` (those
    two files only; BackendUnavailable as :func:`snapshot` raises it)."""
    local = path if path is not None else os.environ.get(env_var)
    return Path(local) if local else snapshot(model, ["config.json", "model.safetensors"],
                                             env_var)


def load_from(load: Callable[[str], Any], folder: Path, what: str) -> Any:
    """``load(str(folder))`` (a ``from_pretrained``); any failure of a corrupt or partial
    copy becomes one sentence naming ``what`` (BackendUnavailable)."""
    try:
        return load(str(folder))
    except Exception as err:  # noqa: BLE001 - a corrupt or partial copy reads the same
        raise BackendUnavailable(f"Could not load {what} from {folder} "
                                 f"({err.__class__.__name__}); download it again.") from None


def local_candidates(variant: str, model_path: str | Path | None, env_var: str,
                     shared_dir: Path, cache: Path) -> list[Path]:
    """Where a non-Hub model (BodyPix, MoveNet) may already be on disk, in the order to try:
    an explicit path, ``$env_var`` (itself or its ``variant`` subfolder), ``shared_dir /
    variant``, then the library's own download cache. Nothing is fetched."""
    candidates: list[Path] = []
    if model_path is not None:
        candidates.append(Path(model_path))
    if os.environ.get(env_var):
        env = Path(os.environ[env_var])
        candidates += [env, env / variant]
    return [*candidates, shared_dir / variant, cache]


def find_local(variant: str, model_path: str | Path | None, env_var: str, shared_dir: Path,
               cache: Path, is_model: Callable[[Path], bool],
               kind: Callable[[Path], str | None]) -> Path | None:
    """The first folder of :func:`local_candidates` that holds a model (``is_model``) of
    ``variant``. ``kind(folder)`` reads which variant a folder holds (None = cannot tell):
    a folder of the other variant never counts, and the ``$env_var`` folder itself counts
    only when it says ``variant`` (so one folder does not answer for every variant). An
    explicit ``model_path`` is that folder or nothing."""
    if model_path is not None:
        return Path(model_path) if is_model(Path(model_path)) else None
    env = os.environ.get(env_var)
    for folder in local_candidates(variant, None, env_var, shared_dir, cache):
        if not is_model(folder):
            continue
        found = kind(folder)
        if found == variant or (found is None and not (env and folder == Path(env))):
            return folder
    return None


def require_local(what: str, variant: str, model_path: str | Path | None,
                  find: Callable[[str, str | Path | None], Path | None],
                  reason: Callable[[str], str | None], files: str) -> Path:
    """The folder ``find(variant, model_path)`` gives, else BackendUnavailable in one
    sentence: ``model_path`` holds no ``what`` ``files`` when one was given, else
    ``reason(variant)`` (the backend's unavailable sentence)."""
    path = find(variant, model_path)
    if path is None:
        why = (f"{model_path} holds no {what} {files}." if model_path is not None
               else reason(variant))
        raise BackendUnavailable(why or f"{what} {variant} was not found.")
    return path


def local_model_reason(what: str, variant: str, find: Callable[[str], Path | None],
                       module: str, env_var: str) -> str | None:
    """One sentence when the TensorFlow model ``what`` (BodyPix, MoveNet) cannot run
    ``variant`` here: no TensorFlow, or ``find(variant)`` (a local search, no network) finds
    no copy; the sentence says how to get one (``python -m <module> --download``). Cheap:
    no import, no network."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        return f"{what} needs TensorFlow; install it with: pip install tensorflow-cpu."
    if find(variant) is None:
        how = ("offline mode is on" if offline() else
               f"download it once with: python -m {module} --download {variant}")
        return (f"{what} {variant} is not on this machine ({how}); or set {env_var} to a "
                f"local folder holding {variant}/.")
    return None


def download_main(argv: list[str] | None, description: str, variants: list[str],
                  download: Callable[[str], Path]) -> int:
    """``--download VARIANT`` command line for a non-Hub model: prints the local path, or one
    error line and exit status 2."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--download", choices=variants, required=True)
    args = parser.parse_args(argv)
    try:
        print(download(args.download))
    except BackendUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def download_tfjs_model(url: str, what: str, env_var: str) -> Path:
    """A TF.js model (BodyPix) fetched by tf-bodypix into its local cache."""
    if offline():
        raise BackendUnavailable(f"Offline mode is on; cannot download {what}.")
    try:
        from tf_bodypix.download import download_model

        return Path(download_model(url))
    except Exception as err:  # noqa: BLE001 - any network failure reads the same to a user
        raise BackendUnavailable(f"Could not download {what} from {url} "
                                 f"({err.__class__.__name__}); check the network or set "
                                 f"{env_var}.") from None


def resolve_tfhub(handle: str, what: str, env_var: str) -> Path:
    """A TF Hub SavedModel (MoveNet) fetched by tensorflow_hub into its local cache."""
    if offline():
        raise BackendUnavailable(f"Offline mode is on; cannot download {what}.")
    try:
        from restore.tf_compat import import_tensorflow

        import_tensorflow()
        import tensorflow_hub
    except Exception as err:  # noqa: BLE001 - not the network: a package missing or broken
        raise BackendUnavailable(f"Cannot download {what}: tensorflow_hub does not import "
                                 f"here ({err.__class__.__name__}: {str(err)[:120]}); "
                                 "reinstall the requirements (pip install -r requirements.txt) "
                                 f"or set {env_var}.") from None
    try:
        return Path(tensorflow_hub.resolve(handle))
    except Exception as err:  # noqa: BLE001 - any network failure reads the same to a user
        raise BackendUnavailable(f"Could not download {what} from {handle} "
                                 f"({err.__class__.__name__}); check the network or set "
                                 f"{env_var}.") from None


def tags_taken(repo_ids: list[str], tag: str, token: str | None = None) -> list[str]:
    """The repos of ``repo_ids`` that already carry ``tag`` (a repo not created yet carries
    none), checked before a push of several repos uploads anything."""
    if offline():
        raise BackendUnavailable("Offline mode is on; unset HF_HUB_OFFLINE to push to the Hub.")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    api = HfApi(token=token)
    taken = []
    for repo_id in repo_ids:
        try:
            tags = {t.name for t in api.list_repo_refs(repo_id).tags}
        except RepositoryNotFoundError:
            continue
        except Exception as err:  # noqa: BLE001
            raise BackendUnavailable(
                f"Could not read the tags of {repo_id} ({err.__class__.__name__}); check the "
                "token and the network.") from None
        if tag in tags:
            taken.append(repo_id)
    return taken


def upload_folder(folder: Path, repo_id: str, *, token: str | None = None,
                  commit_message: str = "Upload statue-restore model", dry_run: bool = False,
                  tag: str | None = None) -> list[str]:
    """Upload every file in ``folder`` to ``repo_id``; returns the uploaded relative paths.

    ``tag`` (e.g. ``v0.1.0``) is then put on the upload's commit, so a pinned
    :class:`HubModel` revision of that name resolves to exactly these files.
    With ``dry_run`` nothing leaves the machine: the list says exactly what would be sent.
    """
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    if dry_run:
        return files
    if offline():
        raise BackendUnavailable("Offline mode is on; unset HF_HUB_OFFLINE to push to the Hub.")
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, exist_ok=True)
        taken = tag is not None and tag in {t.name for t in api.list_repo_refs(repo_id).tags}
        if not taken:
            info = api.upload_folder(folder_path=str(folder), repo_id=repo_id,
                                     commit_message=commit_message)
            if tag:  # a tag names one set of files forever: never moved (exist_ok=False)
                api.create_tag(repo_id, tag=tag, revision=info.oid, exist_ok=False)
    except Exception as err:  # noqa: BLE001
        raise BackendUnavailable(
            f"Could not upload to {repo_id} ({err.__class__.__name__}: {err}); check the token "
            "and the network."
        ) from None
    if taken:
        raise ValueError(f"{repo_id} already has a tag {tag}, and pinned tags are never moved; "
                         "push with a new tag (e.g. the next version).")
    return files
