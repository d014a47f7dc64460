"""Written numbers: segmentation (digits.read.segment) on numbers composed from real MNIST test digits and from
digits.synthetic.photos's photo-like renders, and reading them end to end with predict (the trained_project CNN)."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from digits import predict, project
from digits.config import schema
from digits.data import arrays, idx
from digits.read import choice, images, reading, segment
from digits.synthetic import multidigit, photos

NUMBERS = [[0, 1, 2, 3], [4, 5, 6, 7], [10, 11, 12, 13], [14, 15, 16, 17]]  # MNIST test indices, clear ones
# Touching pairs as wide as two digits (4 9, 4 1, 7 1): a 1 touching a 0 is no wider than one digit (docs/using.md)
TOUCHING = [[6, 7], [4, 5], [0, 2]]


@pytest.fixture(scope="module")
def mnist(mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's first 500 test images and labels: what ``trained_project``'s prepare keeps, without training it."""
    return tuple(parse((mnist_dir / f"t10k-{kind}.gz").read_bytes())[:500]
                 for parse, kind in ((idx.parse_images, "images-idx3-ubyte"), (idx.parse_labels, "labels-idx1-ubyte")))


def found(grey: np.ndarray) -> tuple[int, list[segment.Candidate]]:
    return segment.candidates(images.sheet_ink(grey))


def oracle(n_parts: int, cands: list[segment.Candidate], true: list[tuple], slack: int) -> np.ndarray:
    """Probabilities a perfect reader would give: sure (0.99) of a candidate in a true digit's box, unsure (0.3)
    of any other; each true box must be among the candidates."""
    hit = [any(np.abs(np.subtract(c.box, box)).max() <= slack for box in true) for c in cands]
    for box in true:
        assert any(np.abs(np.subtract(c.box, box)).max() <= slack for c in cands), (box, [c.box for c in cands])
    probs = np.full((len(cands), 10), 0.01)
    probs[:, 0] = np.where(hit, 0.99, 0.3)
    return probs / probs.sum(1, keepdims=True)


def chosen_boxes(grey: np.ndarray, true: list[tuple], slack: int) -> list[tuple]:
    n, cands = found(grey)
    reading_ = segment.Reading("t", n, cands, np.zeros((len(cands), 28, 28), np.uint8), [1, 1])
    return [cands[k].box for k in choice.choose(reading_, oracle(n, cands, true, slack))]


def assert_boxes_match(got: list[tuple], true: list[tuple], slack: int) -> None:
    assert len(got) == len(true), (got, true)
    for box, want in zip(got, true):  # in order: left to right
        assert np.abs(np.subtract(box, want)).max() <= slack, (box, want)


@pytest.mark.parametrize("which", range(len(NUMBERS)))
def test_digits_with_gaps_are_candidates_and_chosen_in_order(mnist, which):
    grey, true = multidigit.mnist_number(mnist[0][NUMBERS[which]], [3, 4, 3], scale=4)
    # anti-aliasing at 4× and faint edges cleared: within 1.5 MNIST px
    assert_boxes_match(chosen_boxes(grey, true, slack=6), true, slack=6)
    n, cands = found(grey)
    assert all(images.to_field(c.ink).shape == (28, 28) for c in cands)


@pytest.mark.parametrize("which", range(len(TOUCHING)))
def test_touching_digits_are_cut_between_them(mnist, which):
    pair = mnist[0][TOUCHING[which]]
    grey, true = multidigit.mnist_number(pair, [-2], scale=4)  # strokes overlap by 2 MNIST pixels
    got = chosen_boxes(grey, true, slack=12)  # a vertical cut through the overlap: within 3 MNIST px
    assert len(got) == 2 and got[0][0] < got[1][0]


def test_the_model_decides_between_one_digit_and_two():
    """The same two strokes sharing no column: one digit where the model reads them together better, two where
    it reads them apart better (the prior's costs are small beside a confident reading)."""
    sheet = np.full((160, 300), 255, np.uint8)
    sheet[30:120, 60:70] = 0
    sheet[30:120, 90:100] = 0
    n, cands = found(sheet)
    assert n == 2 and {(c.start, c.stop) for c in cands} == {(0, 1), (1, 2), (0, 2)}
    together = np.array([[0.3] + [0.7 / 9] * 9 if c.stop - c.start == 1 else [0.99] + [0.01 / 9] * 9
                         for c in cands])
    r = segment.Reading("t", n, cands, np.zeros((3, 28, 28), np.uint8), [300, 160])
    assert [(cands[k].start, cands[k].stop) for k in choice.choose(r, together)] == [(0, 2)]
    apart = np.where(together == 0.99, 0.3, np.where(together == 0.3, 0.99, together))
    assert [(cands[k].start, cands[k].stop) for k in choice.choose(r, apart)] == [(0, 1), (1, 2)]


def test_one_inked_piece_wider_than_digits_is_cut_and_flagged():
    sheet = np.full((160, 300), 255, np.uint8)
    sheet[40:100, 50:230] = 0  # a solid bar three times as wide as tall: every cut goes through ink
    n, cands = found(sheet)
    assert n >= 3 and all(c.merged for c in cands if c.stop - c.start < n)
    assert any(c.start == 0 and c.stop == n for c in cands)  # all of the ink is a candidate too


def test_specks_and_the_sheet_edge_are_not_digits(mnist):
    grey, true = multidigit.mnist_number(mnist[0][NUMBERS[0]], [3, 4, 3], scale=4)
    grey = np.pad(grey, ((0, 0), (0, 30)), constant_values=255)
    grey[:, -8:] = 40  # the table beyond the sheet's edge, full height
    grey[5:9, 200:204] = 0  # a speck
    assert_boxes_match(chosen_boxes(grey, true, slack=6), true, slack=6)


def test_single_digit_and_blank_sheet(mnist):
    grey, (box,) = multidigit.mnist_number(mnist[0][[0]], [], scale=6)
    n, cands = found(grey)
    assert any(np.abs(np.subtract(c.box, box)).max() <= 9 for c in cands if (c.start, c.stop) == (0, n))
    with pytest.raises(ValueError, match="blank image"):
        reading.read("blank.png", np.full((60, 200), 250, np.uint8))


def wild_numbers(condition: str, count: int) -> list[tuple[list[int], np.ndarray, list[tuple]]]:
    """``count`` four-digit numbers of drawn digits, photographed under ``condition``, decoded as predict does."""
    drawn = photos.digits("drawn", per_class=2, seed=3)
    out = []
    for k in range(count):
        rng = np.random.default_rng([k, 11])
        pick = rng.choice(len(drawn), 4, replace=False)
        gaps = [int(g) for g in rng.integers(6, 16, 3)]
        payload, _, true = multidigit.wild_number([drawn[i][1] for i in pick], gaps, condition, seed=k)
        grey = images.to_grey(np.asarray(Image.open(io.BytesIO(payload)).convert("L")))
        out.append(([drawn[i][0] for i in pick], grey, true))
    return out


@pytest.mark.parametrize("condition", ["clean", "lighting", "paper", "photo"])
def test_photo_like_numbers_hold_their_digits_as_candidates(condition):
    """Drawn digits on uneven light, lined paper, blurred noisy JPEG: every digit is a candidate, in its box, and
    a reader sure of those alone reads them in order."""
    for _, grey, true in wild_numbers(condition, 5):
        assert_boxes_match(chosen_boxes(grey, true, slack=10), true, slack=10)


# --- end to end, with the trained_project CNN -----------------------------------------------------------------

def read(root, paths, capsys, *flags) -> tuple[int, str]:
    status = predict.main(["--project", str(root), *flags, *map(str, paths)])
    return status, capsys.readouterr().out


@pytest.mark.slow  # trained_project
def test_reads_clear_numbers_end_to_end(trained_project, mnist, tmp_path, capsys):
    paths, truths = [], []
    for k, (picks, gaps, suffix) in enumerate([(NUMBERS[0], [3, 4, 3], "png"), (NUMBERS[1], [1, 0, 2], "jpg")]):
        grey, _ = multidigit.mnist_number(mnist[0][picks], gaps)
        paths.append(tmp_path / f"number{k}.{suffix}")
        Image.fromarray(grey).convert("RGB").save(paths[-1])
        truths.append("".join(str(v) for v in mnist[1][picks]))
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
    labels = arrays.load_class_names(trained_project / "artifacts/data/test.npz")
    model = project.load_model(schema.load_params(trained_project / "params.yaml"), trained_project,
                               "cnn", "keras")
    truth, grey, _ = wild_numbers("photo", 1)[0]
    reply = reading.answer_image("photo.jpg", grey, model, labels).as_json()
    assert len(reply["digits"]) == 4 and len(reply["number"]) == 4


@pytest.mark.slow  # trained_project
def test_one_digit_is_answered_as_before_with_its_box(trained_project, mnist):
    labels = arrays.load_class_names(trained_project / "artifacts/data/test.npz")
    model = project.load_model(schema.load_params(trained_project / "params.yaml"), trained_project,
                               "cnn", "keras")
    grey, (box,) = multidigit.mnist_number(mnist[0][[0]], [], scale=6)
    reply = reading.answer_image("one.png", grey, model, labels).as_json()
    probs = model(arrays.preprocess(images.to_mnist(grey)[None]))[0]
    before = {"file": "one.png", "class": labels[probs.argmax()], "label": int(probs.argmax()),
              "probability": round(float(probs.max()), 6)}
    assert {k: v for k, v in reply.items() if k not in ("digits", "size")} == before
    (digit,) = reply["digits"]
    assert digit["class"] == before["class"] and digit["merged"] is False
    assert np.abs(np.subtract(digit["box"], box)).max() <= 9


@pytest.mark.parametrize("width", [1, 2, 5])
def test_a_sliver_of_ink_is_one_candidate(width):
    """A sliver cannot be cut (before, a speckled photo crashed the cutting with numpy's "attempt to get argmin
    of an empty sequence")."""
    ink = np.zeros((40, 60))
    ink[:, 3:3 + width] = 1.0
    n, (only,) = segment.candidates(ink)
    assert n == 1 and only.box == (3, 0, width, 40) and not only.merged


@pytest.mark.slow  # trained_project
@pytest.mark.parametrize("index", [597, 694, 1131])
def test_broken_strokes_of_real_test_digits_stay_one_digit(trained_project, mnist_dir, index):
    """MNIST test digits whose strokes are broken in two, read as two-digit numbers before (a 0 as 63, a 5 as 12,
    a 5 as 52): now one digit, its class the one the model gives the whole image. Picked by index at test time."""
    labels = arrays.load_class_names(trained_project / "artifacts/data/test.npz")
    model = project.load_model(schema.load_params(trained_project / "params.yaml"), trained_project,
                               "cnn", "keras")
    x = idx.parse_images((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())[index]
    n, _ = segment.candidates(images.sheet_ink(x))
    assert n >= 2  # its ink is in more than one piece: the case
    reply = reading.answer_image(f"{index}.png", x, model, labels).as_json()
    assert "number" not in reply and len(reply["digits"]) == 1
    assert reply["label"] == int(model(arrays.preprocess(images.to_mnist(x)[None]))[0].argmax())
