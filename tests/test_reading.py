"""``digits.read.streaming.answers``: many files answered in the order given, errors in their places, with one model
call per chunk, not per image (a fake model: no TensorFlow needed)."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from digits.read import answers, reading, streaming

LABELS = tuple("0123456789")


def bar_file(path, thick: int) -> str:
    """A vertical bar (a 1) on white paper, its thickness a code the fake model reads back."""
    sheet = Image.new("L", (60, 80), 255)
    ImageDraw.Draw(sheet).rectangle([30 - thick, 10, 30 + thick, 70], fill=0)
    sheet.save(path)
    return str(path)


class Fake:
    """A model that answers class (ink share of the field × 20) % 10 and counts its calls and images."""

    def __init__(self):
        self.calls, self.images = 0, 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls, self.images = self.calls + 1, self.images + len(x)
        return np.eye(10, dtype=np.float32)[(x.reshape(len(x), -1).mean(1) * 20).astype(int) % 10]


def test_answers_keep_order_and_errors_with_one_call_per_chunk(tmp_path):
    paths, fake = [], Fake()
    for i in range(150):
        if i % 37 == 5:
            (tmp_path / f"{i}.png").write_bytes(b"not an image")
            paths.append(str(tmp_path / f"{i}.png"))
        else:
            paths.append(bar_file(tmp_path / f"{i}.png", 1 + i % 4))
    paths.insert(70, str(tmp_path / "missing.png"))
    replies = list(streaming.answers(paths, fake, LABELS, chunk=32))
    assert len(replies) == len(paths)
    for path, reply in zip(paths, replies):
        if path.endswith("missing.png") or (tmp_path / path).read_bytes() == b"not an image":
            assert isinstance(reply, (ValueError, OSError)) and path in str(reply), reply
        else:
            assert reply.file == path
    assert fake.calls == -(-len(paths) // 32) and fake.images == sum(isinstance(r, answers.Answer) for r in replies)
    one_by_one = Fake()
    for path, reply in zip(paths, replies):  # the same answers as one image at a time
        if isinstance(reply, answers.Answer):
            assert reply == reading.answer_image(path, reading.images.decode(path), one_by_one, LABELS)


def test_no_readable_image_calls_no_model(tmp_path):
    (tmp_path / "x.png").write_bytes(b"junk")
    fake = Fake()
    (reply,) = streaming.answers([str(tmp_path / "x.png")], fake, LABELS)
    assert isinstance(reply, ValueError) and fake.calls == 0
