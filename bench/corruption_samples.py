"""A PNG grid of the corruptions for a person to look at: one row per family, the clean digits on top.

Command: ``python -m bench.corruption_samples OUT.png [--mnist DIR] [--count 8] [--seed 0]``; reads MNIST's test
images from DIR (default ``../shared/mnist`` beside the repository, as the tests do).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from digits.corrupt.corruptions import corrupted_test_set
from digits.data.idx import parse_images

ROOT = Path(__file__).resolve().parents[1]
ZOOM, LABEL_W = 3, 110  # 84 px digits: big enough to judge a stroke; a margin for the row's name


def grid(rows: dict[str, np.ndarray]) -> Image.Image:
    """Rows of digits side by side, each row named at its left, with a one-pixel grey rule between digits."""
    count, side = next(iter(rows.values())).shape[:2]
    cell = side * ZOOM + 1
    sheet = Image.new("L", (LABEL_W + count * cell, len(rows) * cell), 96)
    pen = ImageDraw.Draw(sheet)
    for r, (name, images) in enumerate(rows.items()):
        pen.text((4, r * cell + cell // 2 - 5), name, fill=255)
        for c, image in enumerate(images):
            tile = Image.fromarray(image).resize((side * ZOOM, side * ZOOM), Image.NEAREST)
            sheet.paste(tile, (LABEL_W + c * cell, r * cell))
    return sheet


def digits_parser(description: str, count: int, count_help: str) -> argparse.ArgumentParser:
    """The options of the corruption benches: where MNIST is, how many of its test digits, the seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "mnist")
    parser.add_argument("--count", type=int, default=count, help=count_help)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def mnist_test_digits(args: argparse.Namespace) -> np.ndarray:
    """MNIST's first ``args.count`` test digits, from ``args.mnist``."""
    return parse_images((args.mnist / "t10k-images-idx3-ubyte.gz").read_bytes())[: args.count]


def main(argv: list[str] | None = None) -> None:
    parser = digits_parser(__doc__.splitlines()[0], 8, "digits per row")
    parser.add_argument("out", type=Path, help="where to write the PNG")
    args = parser.parse_args(argv)
    images = mnist_test_digits(args)
    rows = {"clean": images, **corrupted_test_set(images, args.seed)}
    grid(rows).save(args.out)
    print(f"wrote {args.out}: {len(rows)} rows of {len(images)} digits")


if __name__ == "__main__":
    main()
