"""Hub cards written from measurements: one card per learned model, its model-index equal
to the eval.json beside its weights, pushed (dry run, offline) as five separate repos."""

from __future__ import annotations

import json
import shutil
import socket
import types
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import ModelCard

from restore import cards, hub
from restore.cli import main

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "restore" / "weights"
MODELS = {"inpaint-gan": "statue-restore/inpaint-gan",
          "inpaint-unet": "statue-restore/inpaint-unet",
          "statue-net": "statue-restore/statue-net",
          "statue-depth": "statue-restore/statue-depth",
          "arm-presence": "statue-restore/arm-presence"}


@pytest.fixture
def no_network(monkeypatch):
    """Offline flags on, and any socket connection fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the dry run opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def flat_json(evaluation: dict[str, Any]) -> list[tuple[Any, ...]]:
    """eval.json as (task, dataset, metric) tuples, read without restore.cards."""
    return [(r["task"]["type"], r["task"].get("name"), r["dataset"]["type"],
             r["dataset"]["name"], r["dataset"].get("config"), r["dataset"].get("split"),
             m["type"], m.get("name"), m["value"])
            for r in evaluation["results"] for m in r["metrics"]]


def flat_card(card: ModelCard) -> list[tuple[Any, ...]]:
    """A parsed card's model-index as the same tuples."""
    return [(e.task_type, e.task_name, e.dataset_type, e.dataset_name, e.dataset_config,
             e.dataset_split, e.metric_type, e.metric_name, e.metric_value)
            for e in card.data.eval_results or []]


def test_dry_run_pushes_five_repos_each_with_its_own_measured_card(tmp_path, capsys,
                                                                   no_network):
    """`hub push --dry-run`: five repos, each card's model-index equal to its eval.json."""
    assert main(["hub", "push", "--dry-run", "--stage", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    pushed = [line.split(": ")[0].removeprefix("would upload to ")
              for line in out.splitlines() if line.startswith("would upload to ")]
    assert pushed == list(MODELS.values())
    names = set()
    for folder, repo_id in MODELS.items():
        staged = tmp_path / repo_id
        assert sorted(p.name for p in staged.iterdir()) == [
            "README.md", "config.json", "eval.json", "model.safetensors"]
        evaluation = json.loads((WEIGHTS / folder / "eval.json").read_text())
        card = ModelCard((staged / "README.md").read_text(encoding="utf-8"))  # text only
        assert card.data.model_name == evaluation["model_name"] == f"statue-restore {folder}"
        assert flat_card(card) == flat_json(evaluation) != []
        assert f"'{evaluation['model_name']}'" in out
        names.add(card.data.model_name)
    assert len(names) == 5  # the U-Net no longer goes out under the GAN's card


def test_checked_in_cards_are_the_generated_ones():
    """restore/weights/*/README.md equal what `python -m restore.cards` writes from eval.json."""
    for spec in cards.CARDS.values():
        folder = WEIGHTS / spec.folder
        generated = str(cards.build_card(folder))
        assert (folder / "README.md").read_text(encoding="utf-8") == generated, spec.folder
        assert flat_card(ModelCard(generated)) == flat_json(cards.load_evaluation(folder))
    assert not (ROOT / "model_card.md").exists()  # no shared card left to drift


def test_every_eval_json_was_measured_on_the_shipped_weights():
    """Each eval.json names the sha256 of the weights beside it, and a source per result."""
    for spec in cards.CARDS.values():
        evaluation = cards.load_evaluation(WEIGHTS / spec.folder)
        cards.check_measured(WEIGHTS / spec.folder, evaluation)
        for result in evaluation["results"]:
            assert result["source"] and result["measured_at"] and result["n"] > 0


def test_the_card_follows_eval_json(tmp_path):
    """A changed number in eval.json is the number in the card; regenerating is stable."""
    folder = tmp_path / "unet"
    shutil.copytree(WEIGHTS / "inpaint-unet", folder)
    evaluation = json.loads((folder / "eval.json").read_text())
    evaluation["results"][0]["metrics"][0]["value"] = 99.5
    (folder / "eval.json").write_text(json.dumps(evaluation))
    card = cards.build_card(folder)
    assert flat_card(card)[0][-1] == 99.5 and "masked PSNR 99.5" in card.text
    assert str(cards.build_card(folder)) == str(card)
    (folder / "README.md").write_text(str(card))  # regenerating a generated card: no change
    assert str(cards.build_card(folder)) == str(card)
    assert card.text.count(cards.START) == 1


def test_weights_that_were_not_measured_are_refused(tmp_path):
    """Other weights than the measured ones, or none measured: no card, one sentence."""
    folder = tmp_path / "gan"
    shutil.copytree(WEIGHTS / "inpaint-gan", folder)
    (folder / "model.safetensors").write_bytes(b"retrained")
    with pytest.raises(ValueError, match="measured on other weights"):
        cards.stage_upload("gan", tmp_path / "out", weights=folder)
    (folder / "eval.json").unlink()
    with pytest.raises(ValueError, match="No eval.json"):
        cards.stage_upload("gan", tmp_path / "out", weights=folder)


def test_one_model_options_need_one_model(capsys, no_network):
    """--repo-id needs --model; --namespace moves a one-model push to another owner."""
    assert main(["hub", "push", "--dry-run", "--repo-id", "me/x"]) == 2
    assert "add --model" in capsys.readouterr().err
    assert main(["hub", "push", "--dry-run", "--model", "unet", "--namespace", "me"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("would upload to me/inpaint-unet: ")
    assert "'statue-restore inpaint-unet'" in out and "inpaint-gan" not in out


def test_pins_and_repos_agree():
    """The repo the inpainters download from is the one their card is pushed to."""
    from restore.inpainting.learned import HUB

    for key, pinned in HUB.items():
        assert pinned.repo_id == f"{cards.NAMESPACE}/{cards.CARDS[key].repo}"
        assert pinned.local_dir == cards.CARDS[key].folder


def test_a_tagged_push_moves_no_tag_and_uploads_nothing_if_one_repo_has_it(monkeypatch,
                                                                           capsys):
    """The real push path with the Hub client replaced by a recorder (no network)."""
    import huggingface_hub

    calls: list[tuple[str, str]] = []

    class FakeApi:
        def __init__(self, token=None):
            pass

        def list_repo_refs(self, repo_id):
            calls.append(("list_repo_refs", repo_id))
            tags = ["v0.1.0"] if repo_id.endswith("statue-depth") else []
            return types.SimpleNamespace(tags=[types.SimpleNamespace(name=t) for t in tags])

        def __getattr__(self, name):
            def record(*args, **kwargs):
                calls.append((name, str(args or kwargs)))
            return record

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(hub, "offline", lambda: False)
    assert main(["hub", "push", "--tag", "v0.1.0"]) == 2
    assert "statue-restore/statue-depth already tagged v0.1.0" in capsys.readouterr().err
    assert [c[0] for c in calls] == ["list_repo_refs"] * 5  # nothing created or uploaded
