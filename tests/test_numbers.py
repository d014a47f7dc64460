"""Written numbers: segmentation (digits.numbers) on numbers composed from real MNIST test digits and from
digits.wild's photo-like renders, and reading them end to end with predict (the trained_project CNN)."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from digits import compose, data, idx, images, numbers, predict, reading, wild

NUMBERS = [[0, 1, 2, 3], [4, 5, 6, 7], [10, 11, 12, 13], [14, 15, 16, 17]]  # MNIST test indices, clear ones
# Touching pairs as wide as two digits (4 9, 4 1, 7 1): a 1 touching a 0 is no wider than one digit (docs/numbers.md)
TOUCHING = [[6, 7], [4, 5], [0, 2]]


@pytest.fixture(scope="module")
def mnist(mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's first 500 test images and labels: what ``trained_project``'s prepare keeps, without training it."""
    return tuple(parse((mnist_dir / f"t10k-{kind}.gz").read_bytes())[:500]
                 for parse, kind in ((idx.parse_images, "images-idx3-ubyte"), (idx.parse_labels, "labels-idx1-ubyte")))


def found(grey: np.ndarray) -> list[numbers.Digit]:
    return numbers.digits(images.sheet_ink(grey))


def assert_boxes_match(got: list[numbers.Digit], true: list[tuple], slack: int) -> None:
    assert len(got) == len(true)
    for digit, box in zip(got, true):  # in order: left to right
        assert np.abs(np.subtract(digit.box, box)).max() <= slack, (digit.box, box)


@pytest.mark.parametrize("which", range(len(NUMBERS)))
def test_digits_with_gaps_are_found_in_order_with_their_boxes(mnist, which):
    grey, true = compose.mnist_number(mnist[0][NUMBERS[which]], [3, 4, 3], scale=4)
    got = found(grey)
    assert_boxes_match(got, true, slack=6)  # anti-aliasing at 4× and faint edges cleared: within 1.5 MNIST px
    assert not any(d.merged for d in got)
    assert all(images.to_field(d.ink).shape == (28, 28) for d in got)


@pytest.mark.parametrize("which", range(len(TOUCHING)))
def test_touching_digits_are_split_between_them(mnist, which):
    pair = mnist[0][TOUCHING[which]]
    grey, true = compose.mnist_number(pair, [-2], scale=4)  # strokes overlap by 2 MNIST pixels
    got = found(grey)
    assert len(got) == 2
    cut = got[1].box[0]
    assert true[1][0] - 8 <= cut <= true[0][0] + true[0][2] + 8  # within the overlap, give or take 2 px
    assert got[0].box[0] < got[1].box[0]


def test_one_inked_piece_wider_than_digits_is_split_and_flagged():
    sheet = np.full((160, 300), 255, np.uint8)
    sheet[40:100, 50:230] = 0  # a solid bar three times as wide as tall: no column of least ink to cut at
    got = found(sheet)
    assert len(got) >= 2 and all(d.merged for d in got)


def test_two_strokes_sharing_columns_are_one_digit():
    sheet = np.full((160, 300), 255, np.uint8)
    sheet[30:38, 40:90] = 0  # a 5's bar, not touching its body
    sheet[44:120, 40:48] = 0
    sheet[112:120, 40:90] = 0
    sheet[30:120, 180:188] = 0  # a 1 beside it
    got = found(sheet)
    assert [d.box for d in got] == [(40, 30, 50, 90), (180, 30, 8, 90)]


def test_specks_and_the_sheet_edge_are_not_digits(mnist):
    grey, true = compose.mnist_number(mnist[0][NUMBERS[0]], [3, 4, 3], scale=4)
    grey = np.pad(grey, ((0, 0), (0, 30)), constant_values=255)
    grey[:, -8:] = 40  # the table beyond the sheet's edge, full height
    grey[5:9, 200:204] = 0  # a speck
    assert_boxes_match(found(grey), true, slack=6)


def test_single_digit_and_blank_sheet(mnist):
    grey, _ = compose.mnist_number(mnist[0][[0]], [], scale=6)
    assert len(found(grey)) == 1
    with pytest.raises(ValueError, match="blank image"):
        found(np.full((60, 200), 250, np.uint8))


def wild_numbers(condition: str, count: int) -> list[tuple[list[int], np.ndarray, list[tuple]]]:
    """``count`` four-digit numbers of drawn digits, photographed under ``condition``, decoded as predict does."""
    drawn = wild.digits("drawn", per_class=2, seed=3)
    out = []
    for k in range(count):
        rng = np.random.default_rng([k, 11])
        pick = rng.choice(len(drawn), 4, replace=False)
        gaps = [int(g) for g in rng.integers(6, 16, 3)]
        payload, _, true = compose.wild_number([drawn[i][1] for i in pick], gaps, condition, seed=k)
        grey = images.to_grey(np.asarray(Image.open(io.BytesIO(payload)).convert("L")))
        out.append(([drawn[i][0] for i in pick], grey, true))
    return out


@pytest.mark.parametrize("condition", ["clean", "lighting", "paper", "photo"])
def test_photo_like_numbers_are_segmented(condition):
    """Drawn digits on uneven light, lined paper, blurred noisy JPEG: every digit found, in order, in its box."""
    for _, grey, true in wild_numbers(condition, 5):
        assert_boxes_match(found(grey), true, slack=10)


# --- end to end, with the trained_project CNN -----------------------------------------------------------------

def read(root, paths, capsys, *flags) -> tuple[int, str]:
    status = predict.main(["--project", str(root), *flags, *map(str, paths)])
    return status, capsys.readouterr().out


@pytest.mark.slow  # trained_project
def test_reads_clear_numbers_end_to_end(trained_project, mnist, tmp_path, capsys):
    paths, truths = [], []
    for k, (idx, gaps, suffix) in enumerate([(NUMBERS[0], [3, 4, 3], "png"), (NUMBERS[1], [1, 0, 2], "jpg")]):
        grey, _ = compose.mnist_number(mnist[0][idx], gaps)
        paths.append(tmp_path / f"number{k}.{suffix}")
        Image.fromarray(grey).convert("RGB").save(paths[-1])
        truths.append("".join(str(v) for v in mnist[1][idx]))
    status, out = read(trained_project, paths, capsys, "--json")
    assert status == 0
    for reply, truth in zip(json.loads(out), truths):
        assert set(reply) == {"file", "class", "number", "probability", "digits", "size"}
        assert reply["class"] == reply["number"] and len(reply["number"]) == 4
        assert sum(a == b for a, b in zip(reply["number"], truth)) >= 3, (reply["number"], truth)
        assert reply["probability"] == min(d["probability"] for d in reply["digits"])
        xs = [d["box"][0] for d in reply["digits"]]
        assert xs == sorted(xs) and all(set(d) == {"class", "label", "probability", "box", "merged"}
                                        for d in reply["digits"])
    status, out = read(trained_project, paths[:1], capsys)
    first = out
    assert first.startswith(f"{paths[0]}: ") and "; digits " in first and first.count(", ") == 3


@pytest.mark.slow  # trained_project
def test_reads_a_photo_like_number_end_to_end(trained_project):
    labels = data.load_class_names(trained_project / "artifacts/data/test.npz")
    model = predict.load_model(predict.config.load_params(trained_project / "params.yaml"), trained_project,
                               "cnn", "keras")
    truth, grey, _ = wild_numbers("photo", 1)[0]
    reply = reading.answer_image("photo.jpg", grey, model, labels)
    assert len(reply["digits"]) == 4 and len(reply["number"]) == 4


@pytest.mark.slow  # trained_project
def test_one_digit_is_answered_as_before_with_its_box(trained_project, mnist):
    labels = data.load_class_names(trained_project / "artifacts/data/test.npz")
    model = predict.load_model(predict.config.load_params(trained_project / "params.yaml"), trained_project,
                               "cnn", "keras")
    grey, (box,) = compose.mnist_number(mnist[0][[0]], [], scale=6)
    reply = reading.answer_image("one.png", grey, model, labels)
    before = reading.answer("one.png", model(data.preprocess(images.to_mnist(grey)[None]))[0], labels)
    assert {k: v for k, v in reply.items() if k not in ("digits", "size")} == before
    (digit,) = reply["digits"]
    assert digit["class"] == before["class"] and digit["merged"] is False
    assert np.abs(np.subtract(digit["box"], box)).max() <= 9


@pytest.mark.parametrize("width", [1, 2, 5])
def test_a_group_too_narrow_for_its_digit_count_stays_one_piece(width):
    """A sliver of ink cannot hold several digits: before, cutting it found no column to cut at and the reading
    failed with numpy's "attempt to get argmin of an empty sequence" (a speckled photo did it)."""
    ink = np.full((40, width), 255, np.uint8)
    (digit,) = numbers.split(ink, 3, 4, 2)
    assert digit.box == (3, 4, width, 40) and not digit.merged
