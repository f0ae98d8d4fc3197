"""Hub model cards written from measurements, and the ``hub push`` command that ships them.

Every learned model's folder in ``restore/weights/`` holds its own card and its measurements:

- ``eval.json``: the measured numbers, each result with the command that measured it
  (``source``), the commit it was measured at and the sha256 of the ``model.safetensors``
  it was measured on;
- ``README.md``: the Hub card. Its YAML ``model-index`` (and ``metrics``) and the Markdown
  section between :data:`START` and :data:`END` are generated here from ``eval.json`` with
  huggingface_hub's ``ModelCard`` / ``ModelCardData`` / ``EvalResult``; the rest of the
  front matter (licence, tags, pipeline) and the prose are written by hand.

``python -m restore.cards`` rewrites the five cards from their ``eval.json``;
``hub push`` always uploads a freshly generated card, never a stale copy. Nothing here
touches the network except a real (not ``--dry-run``) push, through :mod:`restore.hub`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from restore.hub import WEIGHTS_DIR, tags_taken, upload_folder

START = "<!-- measured: generated from eval.json by restore/cards.py; edit eval.json -->"
END = "<!-- /measured -->"
NAMESPACE = "statue-restore"
UPLOADED = ("config.json", "model.safetensors", "eval.json")


@dataclass(frozen=True)
class CardSpec:
    """A learned model that has a Hub repo: its ``hub push --model`` name, its folder in
    ``restore/weights/`` and its repo name (the repo id is ``<namespace>/<repo>``)."""

    key: str
    folder: str
    repo: str


CARDS: dict[str, CardSpec] = {spec.key: spec for spec in (
    CardSpec("gan", "inpaint-gan", "inpaint-gan"),
    CardSpec("unet", "inpaint-unet", "inpaint-unet"),
    CardSpec("statue-net", "statue-net", "statue-net"),
    CardSpec("statue-depth", "statue-depth", "statue-depth"),
    CardSpec("arm-presence", "arm-presence", "arm-presence"),
)}


def load_evaluation(folder: Path) -> dict[str, Any]:
    """``folder/eval.json``; ValueError in one sentence when it is missing or has no results."""
    path = folder / "eval.json"
    if not path.is_file():
        raise ValueError(f"No eval.json beside the weights in {folder}: measure the model and "
                         "record its numbers there (or pass --card to push a card as is).")
    evaluation: dict[str, Any] = json.loads(path.read_text())
    if not evaluation.get("results") or not evaluation.get("model_name"):
        raise ValueError(f"{path} needs a model_name and at least one result.")
    return evaluation


def eval_results(evaluation: dict[str, Any]) -> list[EvalResult]:
    """One ``EvalResult`` per metric of every result in ``evaluation`` (eval.json)."""
    out = []
    for result in evaluation["results"]:
        task, data = result["task"], result["dataset"]
        for metric in result["metrics"]:
            out.append(EvalResult(
                task_type=task["type"], task_name=task.get("name"),
                dataset_type=data["type"], dataset_name=data["name"],
                dataset_config=data.get("config"), dataset_split=data.get("split"),
                metric_type=metric["type"], metric_name=metric.get("name"),
                metric_value=metric["value"]))
    return out


def weights_sha256(folder: Path) -> str:
    """sha256 of ``folder/model.safetensors`` (hex)."""
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def check_measured(folder: Path, evaluation: dict[str, Any]) -> None:
    """ValueError unless ``eval.json`` was measured on exactly these weights (its sha256)."""
    recorded, actual = evaluation.get("weights_sha256"), weights_sha256(folder)
    if recorded != actual:
        raise ValueError(
            f"The numbers in {folder / 'eval.json'} were measured on other weights (sha256 "
            f"{str(recorded)[:12]}, these are {actual[:12]}); re-run its benchmarks and update "
            "eval.json before pushing.")


def measured_section(evaluation: dict[str, Any]) -> str:
    """The card's generated Markdown: one table row per result, then the commands."""
    lines = [START, "", "## Results", "",
             f"Generated from `eval.json` beside the weights (measured on the "
             f"`model.safetensors` of sha256 `{evaluation['weights_sha256'][:12]}`).", "",
             "| task | dataset | n | metrics | source |", "|---|---|---|---|---|"]
    sources: list[str] = []
    for result in evaluation["results"]:
        data = result["dataset"]
        where = ", ".join(str(data[k]) for k in ("config", "split") if data.get(k))
        metrics = ", ".join(f"{m.get('name', m['type'])} {m['value']}" for m in result["metrics"])
        if result["source"] not in sources:
            sources.append(result["source"])
        lines.append(f"| {result['task'].get('name', result['task']['type'])} | "
                     f"{data['name']}{f' ({where})' if where else ''} | {result.get('n', '')} | "
                     f"{metrics} | [{sources.index(result['source']) + 1}] |")
    lines.append("")
    for i, source in enumerate(sources, 1):
        rows = [r for r in evaluation["results"] if r["source"] == source]
        at = sorted({str(r.get("measured_at", "?")) for r in rows})
        notes = sorted({r["note"] for r in rows if r.get("note")})
        lines.append(f"- [{i}] `{source}`, at commit {', '.join(at)}"
                     + "".join(f"; {n}" for n in notes) + ".")
    return "\n".join([*lines, "", END])


def with_section(body: str, section: str) -> str:
    """``body`` with its generated section replaced by ``section`` (appended if absent)."""
    if START in body and END in body:
        head, rest = body.split(START, 1)
        return head + section + rest.split(END, 1)[1]
    return body.rstrip("\n") + "\n\n" + section + "\n"


def card_data(card: ModelCard) -> ModelCardData:
    """``card.data``, typed as the model card metadata it is."""
    data = card.data
    assert isinstance(data, ModelCardData)
    return data


def build_card(folder: Path) -> ModelCard:
    """The Hub card of the model in ``folder``: its README.md (hand-written metadata and
    prose) with ``model-index``, ``metrics`` and the measured section from its eval.json.
    Parses text only (never ``ModelCard.load`` of a repo id): no network."""
    evaluation = load_evaluation(folder)
    readme = folder / "README.md"
    if not readme.is_file():
        raise ValueError(f"No card text at {readme}: write its metadata and prose first.")
    card = ModelCard(readme.read_text(encoding="utf-8"))
    results = eval_results(evaluation)
    data = card_data(card)
    data.model_name = evaluation["model_name"]
    data.eval_results = results
    data.metrics = list(dict.fromkeys(r.metric_type for r in results))
    card.text = with_section(card.text, measured_section(evaluation))
    return card


def write_cards(weights_dir: Path = WEIGHTS_DIR) -> list[Path]:
    """Regenerate every README.md of :data:`CARDS` from its eval.json; returns those changed."""
    changed = []
    for spec in CARDS.values():
        folder = weights_dir / spec.folder
        text = str(build_card(folder))
        if (folder / "README.md").read_text(encoding="utf-8") != text:
            (folder / "README.md").write_text(text, encoding="utf-8")
            changed.append(folder / "README.md")
    return changed


def stage_upload(kind: str, folder: Path, weights: Path | None = None,
                 card: Path | None = None) -> Path:
    """Copy what the Hub repo of ``kind`` holds into ``folder``: ``config.json``,
    ``model.safetensors``, ``eval.json`` and the card generated from it as ``README.md``
    (from ``weights``, default the shipped folder). With ``card``, that file is the README
    as is and eval.json is not needed. ValueError when a file is missing, or when eval.json
    was measured on other weights."""
    if kind not in CARDS:
        raise ValueError(f"Unknown model {kind!r}; use one of {', '.join(CARDS)}.")
    src = Path(weights) if weights is not None else WEIGHTS_DIR / CARDS[kind].folder
    if not all((src / f).is_file() for f in UPLOADED[:2]):
        raise ValueError(f"No trained {kind} weights to push in {src} (need config.json and "
                         "model.safetensors); train first or pass --weights.")
    if card is not None and not card.is_file():
        raise ValueError(f"No model card at {card}.")
    if card is None:
        evaluation = load_evaluation(src)
        check_measured(src, evaluation)
        text = str(build_card(src))
    folder.mkdir(parents=True, exist_ok=True)
    for name in UPLOADED:
        if name != "eval.json" or card is None:
            shutil.copyfile(src / name, folder / name)
    if card is None:
        (folder / "README.md").write_text(text, encoding="utf-8")
    else:
        shutil.copyfile(card, folder / "README.md")
    return folder


def add_hub_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``hub`` sub-command: ``hub push [--model all|gan|...] [--dry-run] [--tag vX.Y.Z]``."""
    p = sub.add_parser("hub", help="push trained weights + model card to the Hub")
    hub_sub = p.add_subparsers(dest="hub_command", required=True, metavar="action")
    push = hub_sub.add_parser("push", help="upload model folders of restore/weights/ with "
                              "their cards (generated from each folder's eval.json)")
    push.add_argument("--model", choices=("all", *CARDS), default="all")
    push.add_argument("--repo-id", help="one model's repo (default: NAMESPACE/<model's repo>)")
    push.add_argument("--namespace", default=NAMESPACE, help="user or organisation of the "
                      f"repos (default: {NAMESPACE})")
    push.add_argument("--weights", type=Path, help="one model's folder (default: the shipped "
                      "copy); its eval.json must have been measured on its model.safetensors")
    push.add_argument("--card", type=Path, help="push this card as is instead of the one "
                      "generated from eval.json (one model)")
    push.add_argument("--token", help="Hub token (default: the logged-in one)")
    push.add_argument("--tag", help="tag each upload, e.g. v0.1.0 (the revision restore/hub.py "
                      "pins); an existing tag is never moved")
    push.add_argument("--dry-run", action="store_true",
                      help="stage and print what would be sent; nothing leaves the machine")
    push.add_argument("--stage", type=Path, help="keep the staged repo folders here "
                      "(one per repo id), e.g. to read the generated cards")
    return p


def push_plan(args: argparse.Namespace) -> list[tuple[str, str]]:
    """``(model, repo id)`` pairs that ``args`` pushes; ValueError for one-model options
    given with ``--model all``."""
    if args.model != "all":
        return [(args.model, args.repo_id or f"{args.namespace}/{CARDS[args.model].repo}")]
    if args.repo_id or args.weights or args.card:
        raise ValueError("--repo-id, --weights and --card name one model; add --model.")
    return [(key, f"{args.namespace}/{spec.repo}") for key, spec in CARDS.items()]


def card_summary(readme: Path) -> list[str]:
    """Indented lines naming the card's model-index and every result in it (parsed back
    from the staged README.md with ``ModelCard``, so what is shown is what is sent)."""
    data = card_data(ModelCard(readme.read_text(encoding="utf-8")))
    results = data.eval_results or []
    lines = [f"  card: model-index {data.model_name!r}, {len(results)} metrics"]
    groups: dict[tuple[Any, ...], list[EvalResult]] = {}
    for r in results:
        groups.setdefault((r.task_type, r.dataset_type, r.dataset_config, r.dataset_split),
                          []).append(r)
    for (task, dataset, config, split), rs in groups.items():
        where = ", ".join(str(x) for x in (config, split) if x)
        values = ", ".join(f"{r.metric_type} {r.metric_value}" for r in rs)
        lines.append(f"    {task} on {dataset}{f' [{where}]' if where else ''}: {values}")
    return lines


def run_hub(args: argparse.Namespace) -> str:
    """Stage every planned repo (generated card included), then upload them, or with
    ``--dry-run`` only say what would be sent. Returns the report to print."""
    plan = push_plan(args)
    keep = getattr(args, "stage", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(keep) if keep is not None else Path(tmp)
        folders = [stage_upload(key, root / repo_id, args.weights, args.card)
                   for key, repo_id in plan]  # every card builds before anything is sent
        if args.tag and not args.dry_run:
            taken = tags_taken([repo_id for _, repo_id in plan], args.tag, args.token)
            if taken:
                raise ValueError(f"{', '.join(taken)} already tagged {args.tag}, and pinned "
                                 "tags are never moved; push with a new tag.")
        lines = []
        for (key, repo_id), folder in zip(plan, folders, strict=True):
            files = upload_folder(folder, repo_id, token=args.token, dry_run=args.dry_run,
                                  commit_message=f"Upload statue-restore {key}", tag=args.tag)
            verb = "would upload" if args.dry_run else "uploaded"
            at = f" and tag {args.tag}" if args.tag else ""
            lines.append(f"{verb} to {repo_id}{at}: " + ", ".join(files))
            if args.card is None:
                lines += card_summary(folder / "README.md")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m restore.cards [--check]``: rewrite the cards in restore/weights/ from their
    eval.json, or with ``--check`` only list the stale ones (exit status 1 if any)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        stale = [s.folder for s in CARDS.values() if str(build_card(WEIGHTS_DIR / s.folder))
                 != (WEIGHTS_DIR / s.folder / "README.md").read_text(encoding="utf-8")]
        print("stale cards: " + ", ".join(stale) if stale else "every card is up to date")
        return 1 if stale else 0
    changed = write_cards()
    print("rewrote " + ", ".join(map(str, changed)) if changed else "every card is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
