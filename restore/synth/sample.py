"""One synthetic statue photograph with ground truth: config, sample, :func:`generate`.

Camera convention (OpenCV): x right, y down, z forward; ``K`` maps camera coordinates to pixel
coordinates whose integer values are pixel centres; ``cam_to_world`` is 4x4 with the camera
axes as columns. World: metres, y up, floor at y = 0, the figure faces +z, the statue's own
left is +x (so a frontal view shows it on the right of the photo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from restore.synth.figure import COCO_NAMES, PART, PART_NAMES, Figure, Prim, build_figure

DAMAGES = ("none", "one", "both", "random")
MATERIALS = ("marble", "bronze", "stone", "random")
FRAMINGS = ("full", "half", "random")
LEVELS = ("shoulder", "upper", "elbow")
_JOINT_PARTS = {
    "nose": ("head",), "eye": ("head",), "ear": ("head",),
    "shoulder": ("upper_arm", "torso", "neck", "drapery"), "elbow": ("upper_arm", "forearm"),
    "wrist": ("forearm", "hand"), "hip": ("pelvis", "leg", "torso", "drapery"),
    "knee": ("leg", "drapery"), "ankle": ("leg", "drapery"),
}


@dataclass(frozen=True)
class SynthConfig:
    """What to generate.

    size: square image side in pixels, 128..512.
    damage: "none" | "one" | "both" | "random" (random: 15% none, 60% one arm, 25% both).
    material: "marble" | "bronze" | "stone" | "random" (random: 65/25/10%).
    framing: "full" (whole figure and plinth top) | "half" (head to thighs) | "random" (70/30).
    seated: probability of a seated figure.
    max_yaw: largest camera azimuth away from the statue's front, degrees.
    photo: add blur, sensor noise and JPEG artefacts (identically to both renders).
    steps: sphere-tracing steps per ray (quality/speed).
    threads: torch CPU threads while rendering (the previous setting is restored afterwards);
        1 is fastest per sample, use several processes for throughput.
    """

    size: int = 256
    damage: str = "random"
    material: str = "random"
    framing: str = "random"
    seated: float = 0.2
    max_yaw: float = 50.0
    photo: bool = True
    steps: int = 64
    threads: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.size, int) and 128 <= self.size <= 512):
            raise ValueError(f"size must be an int from 128 to 512, got {self.size!r}; "
                             "render at 512 and resize for larger images.")
        for name, value, allowed in (("damage", self.damage, DAMAGES),
                                     ("material", self.material, MATERIALS),
                                     ("framing", self.framing, FRAMINGS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}.")
        if not 0.0 <= self.seated <= 1.0:
            raise ValueError(f"seated is a probability in [0, 1], got {self.seated!r}.")
        if not 0.0 <= self.max_yaw <= 180.0:
            raise ValueError(f"max_yaw is in degrees from 0 to 180, got {self.max_yaw!r}.")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads!r}; 1 is the default.")
        if self.steps < 8:
            raise ValueError(f"steps must be at least 8, got {self.steps!r}; 64 is the default.")


@dataclass(frozen=True, eq=False)
class StatueSample:
    """A rendered statue photo pair and its ground truth (see the module docstring for axes).

    image: HxWx3 uint8, intact statue. damaged: HxWx3 uint8, same scene, camera, light and
    photo finish with arm(s) broken off (equal to ``image`` when meta["damage"] == "none").
    missing: HxW bool, pixels of the intact render showing material that the damage removed
    (where a restoration must paint; some show background in ``damaged``). Pixels outside it
    can still differ slightly where the lost arm cast a shadow.
    mask / damaged_mask: HxW bool, statue = figure + plinth (plinth is part id 15).
    parts: HxW uint8 part ids of the intact render, names in ``PART_NAMES`` (0 background).
    keypoints: 17x3 float32 COCO-17 (x, y, v) of the intact render, statue's own left/right;
    v = 2 visible, 1 in frame but hidden, 0 outside the frame (then x = y = 0).
    depth: HxW float32 camera z in metres of the intact render, 0.0 on background.
    K: 3x3 float32 intrinsics. cam_to_world: 4x4 float32 (OpenCV camera axes as columns).
    meta: JSON-serialisable description (material, pose, damage kind/sides/levels, ...).
    """

    image: np.ndarray
    damaged: np.ndarray
    missing: np.ndarray
    mask: np.ndarray
    damaged_mask: np.ndarray
    parts: np.ndarray
    keypoints: np.ndarray
    depth: np.ndarray
    K: np.ndarray
    cam_to_world: np.ndarray
    seed: int
    meta: dict
    _scene: Any = field(default=None, repr=False)
    _meshes: dict = field(default_factory=dict, repr=False)

    def mesh(self, damaged: bool = False, plinth: bool = True, voxel: float = 0.0) -> Any:
        """World-space ``trimesh.Trimesh`` of the intact (or damaged) statue by marching cubes.

        voxel: grid step in metres (0 = height / 120). Computed on first call, then cached.
        """
        key = (damaged, plinth, voxel)
        if key not in self._meshes:
            from restore.synth.sdf import statue_mesh, torch_threads

            with torch_threads(1):
                self._meshes[key] = statue_mesh(self._scene, damaged, plinth, voxel)
        return self._meshes[key]


def _rngs(seed: int) -> dict[str, np.random.Generator]:
    names = ("figure", "camera", "material", "damage", "photo", "noise")
    return {n: np.random.default_rng([int(seed), i]) for i, n in enumerate(names)}


@dataclass
class Damage:
    """Which primitives the damage removes and where it cuts (indices into the prim list)."""

    removed: set[int]
    cuts: dict[int, Any]
    meta: dict


def sample_damage(fig: Figure, kind: str, rng: np.random.Generator) -> Damage:
    """Break off one or both arms at the shoulder, mid upper arm or elbow (noisy planes)."""
    from restore.synth.sdf import Cut

    if kind == "random":
        kind = str(rng.choice(["none", "one", "both"], p=[0.15, 0.6, 0.25]))
    sides = [] if kind == "none" else (["left", "right"] if kind == "both" else
                                       [str(rng.choice(["left", "right"]))])
    removed: set[int] = set()
    cuts: dict[int, Any] = {}
    levels: dict[str, str] = {}
    tags = {i: p.tag for i, p in enumerate(fig.prims)}
    for side in sides:
        t = "L" if side == "left" else "R"
        level = str(rng.choice(LEVELS, p=[0.35, 0.35, 0.3]))
        levels[side] = level
        seg, frac = (".upper", rng.uniform(0.1, 0.22)) if level == "shoulder" else (
            (".upper", rng.uniform(0.35, 0.7)) if level == "upper" else
            (".fore", rng.uniform(0.05, 0.2)))
        limb = [i for i, tg in tags.items() if tg == t + seg]
        p: Prim = fig.prims[limb[0]]  # the limb's capsule comes first, then its muscles
        axis = p.frame[1]
        c = p.a + axis * p.h * frac
        n = axis + rng.normal(0, 0.35, 3)
        n = n / np.linalg.norm(n)
        dirs = rng.normal(size=(3, 3))
        waves = dirs / np.linalg.norm(dirs, axis=1, keepdims=True) * rng.uniform(30, 80, (3, 1))
        cut = Cut(c, n, waves, rng.uniform(0, 6.3, 3), 0.25 * max(p.r1, p.r2))
        cuts.update({i: cut for i in limb})
        drop = [".fore", ".hand", ".obj"] if seg == ".upper" else [".hand", ".obj"]
        removed |= {i for i, tg in tags.items() if tg in {t + x for x in drop}}
    levels = {s: levels.get(s, "none") for s in ("left", "right")}
    return Damage(removed, cuts, {"damage": kind, "damaged_sides": sides, "levels": levels})


def generate(seed: int, config: SynthConfig = SynthConfig()) -> StatueSample:
    """Render the statue scene of ``seed`` (same seed and config -> identical arrays)."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    fig, out = _render(int(seed), config, False)
    kp = np.zeros((17, 3), np.float32)
    for i, name in enumerate(COCO_NAMES):
        kp[i] = _keypoint(name, out, fig)
    meta = dict(fig.meta)
    meta.update(out["meta"])
    meta["seed"] = int(seed)
    meta["part_names"] = list(PART_NAMES)
    return StatueSample(out["image"], out["damaged"], out["missing"], out["mask"],
                        out["damaged_mask"], out["parts"], kp, out["depth"],
                        out["K"].astype(np.float32), out["c2w"].astype(np.float32), int(seed),
                        meta, out["scene"])


def _keypoint(name: str, out: dict, fig: Figure) -> tuple[float, float, float]:
    K, c2w, depth, parts = out["K"], out["c2w"], out["depth"], out["parts"]
    x = c2w[:3, :3].T @ (fig.joints[name] - c2w[:3, 3])
    if x[2] <= 1e-3:
        return 0.0, 0.0, 0.0
    u, v = K[0, 0] * x[0] / x[2] + K[0, 2], K[1, 1] * x[1] / x[2] + K[1, 2]
    h, w = depth.shape
    if not (-0.5 <= u <= w - 0.5 and -0.5 <= v <= h - 0.5):
        return 0.0, 0.0, 0.0
    side, _, joint = name.partition("_") if "_" in name else ("", "", name)
    allowed = set()
    for pn in _JOINT_PARTS[joint or name]:
        allowed |= {PART[n] for n in (pn, f"{side}_{pn}") if n in PART}
    iu, iv = int(round(u)), int(round(v))
    iu, iv = min(max(iu, 0), w - 1), min(max(iv, 0), h - 1)
    tol = fig.joint_depth[name] + 0.03 * fig.height
    vis = parts[iv, iu] in allowed and depth[iv, iu] >= x[2] - tol
    return float(u), float(v), 2.0 if vis else 1.0


def render_background(seed: int, config: SynthConfig = SynthConfig()) -> np.ndarray:
    """The photo of ``seed`` without the statue (cast shadows kept): HxWx3 uint8."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    return _render(int(seed), config, True)[1]["image"]


def _render(seed: int, config: SynthConfig, background_only: bool) -> tuple[Figure, dict]:
    from restore.synth.layout import sample_layout
    from restore.synth.scene import render_scene
    from restore.synth.sdf import torch_threads

    r = _rngs(seed)
    seated = bool(r["figure"].random() < config.seated)
    fig = build_figure(r["figure"], seated)
    lay = sample_layout(fig, config, r["camera"])  # also lifts the figure onto its plinth
    dmg = sample_damage(fig, config.damage, r["damage"])
    with torch_threads(config.threads):
        return fig, render_scene(fig, dmg, lay, config, r, background_only)
