import numpy as np

from restore.training.arm_quality import own_detail


def _grained(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 120 px photo: a grained grey statue (left two thirds) on a flat wall, and a region
    (a block of the right third, off the statue) to judge a fill in."""
    rng = np.random.default_rng(seed)
    image = np.full((120, 120, 3), 40, np.uint8)
    statue = np.zeros((120, 120), bool)
    statue[10:110, 10:80] = True
    grain = rng.normal(150, 12, (120, 120)).clip(0, 255).astype(np.uint8)
    image[statue] = grain[statue][:, None]
    region = np.zeros_like(statue)
    region[30:90, 85:115] = True
    return image, statue, region


def test_a_smear_scores_near_zero_and_the_stones_own_grain_near_one():
    image, statue, region = _grained()
    smear = image.copy()
    smear[region] = 150  # flat: no detail at all (its edge against the wall is not counted)
    assert own_detail(smear, region, statue) < 0.05
    grained = image.copy()
    other, _, _ = _grained(seed=1)  # the same stone's grain, not the same pixels
    grained[region] = other[10:70, 20:50].reshape(-1, 3)
    assert 0.8 < own_detail(grained, region, statue) < 1.25


def test_no_fill_or_no_stone_to_compare_is_nan():
    image, statue, region = _grained()
    assert np.isnan(own_detail(image, np.zeros_like(region), statue))
    flat = image.copy()
    flat[statue] = 150  # a statue without any detail of its own
    assert np.isnan(own_detail(flat, region, statue))
