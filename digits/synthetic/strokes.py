"""Digits as a person writes them: pen strokes per class, jittered, slanted and drawn with a chosen width.

Each class has one or two shapes (how people write a 4 or a 7 differs), each a list of strokes; a stroke is a
polyline in a unit box (x right, y down, the digit 1 tall), arcs given as dense points. ``pen_mask`` bends the
shape with a smooth random field (a hand is not a plotter), slants, scales and places it, and returns the ink's
coverage 0..1 of an H×W sheet. Nothing happens at import beyond building the small table of shapes.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 3  # drawn larger, then shrunk: anti-aliased edges, as a camera sees a pen line


def arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 24) -> list:
    """Points on an ellipse from angle ``start`` to ``stop`` (degrees; -90 is the top, 0 the right, y down)."""
    t = np.radians(np.linspace(start, stop, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def shapes() -> dict[int, list[list[list]]]:
    """Class → its shapes → strokes → (x, y) points."""
    return {
        0: [[arc(.5, .5, .3, .48, -100, 265)]],
        1: [[[(.5, 0), (.5, 1)]], [[(.3, .2), (.55, 0), (.55, 1)]]],
        2: [[arc(.5, .28, .28, .27, -170, 40) + [(.18, 1), (.85, 1)]]],
        3: [[arc(.48, .26, .24, .25, -160, 90) + arc(.48, .74, .28, .26, -90, 160)]],
        4: [[[(.62, 0), (.12, .68), (.88, .68)], [(.64, .3), (.64, 1)]],
            [[(.25, 0), (.18, .58), (.85, .58)], [(.7, .1), (.7, 1)]]],
        5: [[[(.78, 0), (.3, 0), (.24, .45)] + arc(.48, .68, .3, .31, -140, 150)]],
        6: [[[(.72, 0), (.5, .15), (.33, .38)] + arc(.5, .72, .27, .27, 195, 555)]],
        7: [[[(.12, 0), (.88, 0), (.38, 1)]], [[(.12, .05), (.88, 0), (.38, 1)], [(.35, .5), (.78, .48)]]],
        8: [[arc(.5, .26, .22, .25, 90, 450), arc(.5, .74, .28, .26, -90, 270)]],
        9: [[arc(.48, .3, .27, .29, 10, 370) + [(.74, .62), (.6, 1)]]],
    }


def warp(points: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Bend the unit-box points with a smooth random field: two low-frequency waves per axis."""
    out = points.copy()
    for axis in (0, 1):
        for _ in range(2):
            k, phase = rng.uniform(1.0, 3.0, 2), rng.uniform(0, 2 * np.pi)
            out[:, axis] += amount * rng.uniform(-1, 1) * np.sin(points @ k + phase)
    return out


def place(strokes: list, rng: np.random.Generator, size: tuple[int, int]) -> list[np.ndarray]:
    """Unit-box strokes → pixel coordinates: warped, slanted, stretched, scaled and put somewhere off centre."""
    h, w = size
    height = rng.uniform(0.35, 0.7) * min(h, w)
    widen, slant, turn = rng.uniform(0.75, 1.2), rng.uniform(-0.35, 0.3), np.radians(rng.uniform(-10, 10))
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    shear = np.array([[widen, -slant], [0.0, 1.0]])  # x' = widen·x - slant·y: a forward lean for slant > 0
    spread = (np.array([w, h]) - height * 1.3) / 2  # room for the centre to wander, the digit kept on the sheet
    centre = np.array([w, h]) / 2 + rng.uniform(-1, 1, 2) * np.maximum(spread, 0) * 0.8
    out = []
    for stroke in strokes:
        pts = warp(np.asarray(stroke, float), rng, 0.03) - 0.5
        out.append(((rot @ shear @ pts.T).T * height) + centre)
    return out


def pen_mask(label: int, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The coverage 0..1 (H×W float) of one handwritten ``label`` on an H×W sheet, pen 3-14% of its height."""
    options = shapes()[label]
    strokes = place(options[rng.integers(len(options))], rng, size)
    span = max(np.ptp(np.concatenate(strokes)[:, 1]), 1.0)
    return ink(strokes, max(1.5, span * rng.uniform(0.05, 0.16)), size)


def ink(placed: list[np.ndarray], pen: float, size: tuple[int, int]) -> np.ndarray:
    """Strokes (in sheet pixels) drawn with a round pen ``pen`` pixels wide, supersampled: the H×W coverage 0..1."""
    width = pen * SUPERSAMPLE
    sheet = Image.new("L", (size[1] * SUPERSAMPLE, size[0] * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(sheet)
    for stroke in placed:
        pts = [tuple(p) for p in stroke * SUPERSAMPLE]
        draw.line(pts, fill=255, width=round(width), joint="curve")
        for x, y in (pts[0], pts[-1]):  # round pen tips
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    small = sheet.resize((size[1], size[0]), Image.Resampling.BOX)
    return np.asarray(small, np.float64) / 255.0
