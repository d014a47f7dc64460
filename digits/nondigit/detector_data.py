"""What the "not a digit" detector (``digits.nondigit.detector``) learns from and is checked on, all made here from
seeds:

- digits: MNIST's training split as stored; the same enlarged and read back (``enlarged``), as a photo's digits and
  a number's reach the field, softer and less saturated; synthetic digits from ``wild``'s generators;
- non-digits: two MNIST digits touching, read as one mark (``merged_pairs``: what the reader must not take for
  one digit when it chooses where digits end, ``choice.DETECTOR_COST``); ``nondigits``' drawings (letters typed
  in matplotlib's DejaVu fonts, drawn capitals, blank paper, lines, shapes, noise) without the photo
  (``mask_fields``: faster, and another seed than any check), ``LETTERS`` times as many typed letters as any other
  kind; never words, so that one kind is only ever checked, and never the marks any reader takes for digits
  (``nondigits.LOOKALIKES``: O, I, l, S, ...);
- the check (``check_photos``): every kind, words included, photographed as ``wild`` photographs digits, letters
  typed in fonts never trained on (STIX), look-alikes left out; read by stage ``read`` as predict reads files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from digits.nondigit import nondigits
from digits.read import images, segment
from digits.runtime import pool
from digits.synthetic import fonts, multidigit, photos

ENLARGE_CHUNK = 2000  # digits per task sent to a worker process
LETTERS = 3  # typed letters are the hardest kind (52 shapes, many fonts): trained on this many times more


def mask_fields(coverage: np.ndarray) -> np.ndarray:
    """A drawing's ink coverage → the field of its candidate made of all its ink (``segment.candidates``: the
    reading's "one digit" candidate, which needs no model), as predict reads a clean photo of it; nothing for a
    blank sheet or one the reading refuses."""
    none = np.zeros((0, images.SIZE, images.SIZE), np.uint8)
    if coverage.max() <= 0:
        return none
    ink = coverage / coverage.max()
    ink[ink < images.NOISE] = 0.0
    try:
        parts, found = segment.candidates(ink)
        whole = next(c for c in found if (c.start, c.stop) == (0, parts))
        return images.to_field(whole.ink)[None]
    except (ValueError, StopIteration):
        return none


def training_fields(per_kind: int, per_class: int, seed: int, faces: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """(non-digit fields, synthetic digit fields) for training, letters and typed digits in ``faces``; drawn on
    worker processes, each a function of its own seed, so in the same order and bytes as one by one."""
    jobs = [(kind, i, seed, nondigits.typefaces(kind, faces)) for kind in nondigits.KINDS if kind != "words"
            for i in range(per_kind * (LETTERS if kind == "letters" else 1))
            if not nondigits.lookalike(kind, nondigits.DETAILS[kind][i % len(nondigits.DETAILS[kind])])]
    negative = pool.in_pool(negative_field, jobs)
    positive = pool.in_pool(positive_field, [(name, i, seed, faces) for name in photos.SETS
                                             for i in range(10 * per_class)])
    return np.concatenate(negative), np.concatenate(positive)


def negative_field(job: tuple[str, int, int, list[Path]]) -> np.ndarray:
    """``mask_fields`` of one non-digit drawing (``nondigits.draft``'s arguments)."""
    return mask_fields(nondigits.draft(*job).coverage)


def positive_field(job: tuple[str, int, int, list[Path]]) -> np.ndarray:
    """``mask_fields`` of one synthetic digit (``photos.digit``'s arguments)."""
    return mask_fields(photos.digit(*job)[1])


def enlarged(x: np.ndarray, seed: int) -> np.ndarray:
    """MNIST digits as a photo's or a number's digits reach the field: enlarged 2-6 times (anti-aliased), their
    ink stretched and cleared below ``images.NOISE`` as ``images.sheet_ink`` does, then fitted back to 20 pixels;
    on worker processes, in chunks."""
    scales = np.random.default_rng([seed, 11]).integers(2, 7, len(x))
    chunks = [(x[i:i + ENLARGE_CHUNK], scales[i:i + ENLARGE_CHUNK]) for i in range(0, len(x), ENLARGE_CHUNK)]
    return np.concatenate(pool.in_pool(enlarge, chunks) or [x[:0]])


def enlarge(chunk: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``enlarged``'s work on one chunk of digits, each with its scale."""
    digits, scales = chunk
    out = np.empty_like(digits)
    for i, (digit, scale) in enumerate(zip(digits, scales)):
        ink = images.crop(digit.astype(np.float64) / 255.0)
        big = multidigit.resize(ink, (ink.shape[0] * scale, ink.shape[1] * scale))
        big /= big.max()
        big[big < images.NOISE] = 0.0
        out[i] = images.to_field(big)
    return out


def merged_pairs(x: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` fields of two of the MNIST digits ``x`` written touching (-2..0 pixels apart, as
    ``bench.readings``' touching numbers) and read as one mark, its whole ink (``mask_fields``)."""
    rng = np.random.default_rng([seed, 12])
    pairs = rng.integers(0, len(x), (count, 2))
    gaps = rng.integers(-2, 1, count)
    fields = [mask_fields(multidigit.row([images.crop(x[i] / 255.0) for i in pair], [int(gap)], margin=2)[0])
              for pair, gap in zip(pairs, gaps)]
    return np.concatenate(fields or [np.zeros((0, images.SIZE, images.SIZE), np.uint8)])


def training_set(x: np.ndarray, per_kind: int, per_class: int, pairs: int, seed: int
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The detector's training groups of digits (MNIST ``x``, it enlarged, synthetic) and of non-digits (drawn,
    and ``merged_pairs`` of ``x``'s digits: at most ``pairs``, a pair the reading refuses giving none)."""
    negative, synthetic = training_fields(per_kind, per_class, seed, fonts.bundled("train"))
    return [x, enlarged(x, seed), synthetic], [negative, merged_pairs(x, pairs, seed)]


def check_photos(per_kind: int, seed: int) -> list[nondigits.Item]:
    """The held-out non-digits: ``per_kind`` photos of every kind but look-alikes, letters and words in STIX."""
    return [item for kind in nondigits.KINDS for item in nondigits.items(kind, per_kind, seed, fonts.bundled("check"))
            if not nondigits.lookalike(item.kind, item.detail)]
