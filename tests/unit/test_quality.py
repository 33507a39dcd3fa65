"""The image quality gate: each refusal with its reason and hint, and the card found at an angle."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fixtures import cards, variants
from verification import quality
from verification.checks import FAIL, PASS


@pytest.fixture(scope="module")
def card():
    person = cards.random_person(random.Random(11))
    return cards.render_front(person, variants.placeholder_portrait(11), seed=11)


def gate(rgb):
    a = quality.assess(rgb)
    return a, a.checks[0]


def test_a_sharp_card_on_a_table_passes_and_is_flattened(card):
    a, c = gate(variants.on_table(card, angle=2))
    assert (c.verdict, c.reason) == (PASS, None)
    assert a.document.shape == (631, 1000, 3)


@pytest.mark.parametrize("angle, tilt", [(18, 0.0), (-25, 0.0), (6, 0.2), (-9, 0.15), (90, 0.0)])
def test_a_card_at_an_angle_or_in_perspective_is_found_and_straightened(card, angle, tilt):
    a, c = gate(variants.on_table(card, angle=angle, tilt=tilt))
    assert c.verdict == PASS
    # Straightened, the card's portrait (right) and its labels (left) are where the layout puts them:
    # compare with the card itself, scaled to the same size.
    import cv2

    expected = cv2.resize(card, (1000, 631), interpolation=cv2.INTER_AREA).astype(np.float32)
    got = a.document.astype(np.float32)
    if angle == 90:  # a quarter turn is read either way up; the reader retries turned over
        got = np.maximum(got, 0)
    flipped = got[::-1, ::-1]
    err = min(np.abs(got - expected).mean(), np.abs(flipped - expected).mean())
    assert err < 25


def test_a_blurred_card_is_refused_with_hold_still(card):
    _, c = gate(variants.blur(variants.on_table(card), 5.0))
    assert (c.verdict, c.reason) == (FAIL, "document_blurred")
    assert c.hint.startswith("hold still")
    assert c.score < c.threshold


def test_a_shaken_card_is_refused_as_blurred(card):
    _, c = gate(variants.motion_blur(variants.on_table(card), 30, 20))
    assert c.reason == "document_blurred"


def test_glare_over_the_card_is_refused_with_tilt(card):
    _, c = gate(variants.glare(variants.on_table(card), (0.4, 0.5), 0.12))
    assert (c.verdict, c.reason) == (FAIL, "document_glare")
    assert "tilt" in c.hint
    assert c.details["region"] in ("text", "portrait")


def test_a_small_highlight_is_not_glare(card):
    _, c = gate(variants.glare(variants.on_table(card), (0.4, 0.5), 0.012, strength=0.35))
    assert c.verdict == PASS


def test_a_dark_photo_is_refused_with_better_light(card):
    _, c = gate(variants.low_light(variants.on_table(card), 0.1))
    assert (c.reason, c.hint) == ("image_too_dark", quality.HINTS["image_too_dark"])


def test_a_dim_photo_still_passes(card):
    _, c = gate(variants.low_light(variants.on_table(card), 0.55))
    assert c.verdict == PASS


def test_a_card_cut_off_by_the_frame_is_refused(card):
    _, c = gate(variants.on_table(card, shift=(0.3, 0.0)))
    assert c.reason == "document_cut_off"
    assert "inside the frame" in c.hint


def test_a_card_far_away_is_too_small(card):
    _, c = gate(variants.on_table(card, scale=0.22, margin=1.2))
    assert c.reason == "document_too_small"
    assert c.hint == "move closer"


def test_a_photo_filled_by_the_card_is_taken_whole(card):
    a, c = gate(np.ascontiguousarray(card))
    assert c.verdict == PASS and a.measures["full_frame"] == 1.0


@pytest.mark.parametrize("shape, reason", [
    ((40, 20000, 3), "image_too_small"),  # a 20,000-pixel-wide strip
    ((1, 1, 3), "image_too_small"),
    ((900, 1200, 3), "document_not_found"),  # a blank page filling the frame
])
def test_garbage_gets_a_clear_reason(shape, reason):
    blank = np.full(shape, 245, np.uint8)
    _, c = gate(blank)
    assert (c.verdict, c.reason) == (FAIL, reason)
    assert c.hint


def test_random_noise_is_not_a_document():
    noise = np.random.default_rng(0).integers(0, 255, (800, 1000, 3), dtype=np.uint8)
    _, c = gate(noise)
    assert c.verdict == FAIL
