"""Digits typed in handwriting fonts from Debian's font packages, slanted and placed as ``strokes.pen_mask``.

``FONTS`` maps each Debian package to its font files; ``available`` lists the ones installed (``.ci/run``
installs them all); ``bundled`` lists matplotlib's own, the same on every machine. ``font_mask`` returns the
ink's coverage 0..1 of an H×W sheet.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path("/usr/share/fonts")
FONTS = {  # Debian package → its fonts with digits that look written, not typeset
    "fonts-dkg-handwriting": ["truetype/fifthhorseman/dkg.ttf", "truetype/fifthhorseman/dkgBd.ttf"],
    "fonts-breip": ["truetype/breip/Breip.ttf"],
    "fonts-femkeklaver": ["truetype/femkeklaver/femkeklaver.ttf"],
    "fonts-humor-sans": ["truetype/humor-sans/Humor-Sans.ttf"],
    "fonts-comic-neue": ["opentype/comic-neue/ComicNeue-Regular.otf", "opentype/comic-neue/ComicNeue-Bold.otf"],
    "fonts-ecolier-court": ["truetype/ecolier-court/Ecolier-court.ttf"],
    "fonts-kaushanscript": ["opentype/kaushanscript/KaushanScript-Regular.otf"],
    "fonts-dancingscript": ["opentype/dancingscript/DancingScript-Bold.otf"],
}
SUPERSAMPLE = 3
# Matplotlib's own fonts, installed with it (a pinned requirement), so the same files on every machine: typed
# letters for the "not a digit" detector's training (DejaVu) and its held-out check (STIX, never trained on).
BUNDLED = {"train": ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
                     "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
                     "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
                     "DejaVuSansMono-BoldOblique.ttf"],
           "check": ["STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf"]}


def missing() -> list[str]:
    """The Debian packages of ``FONTS`` not installed."""
    return [pkg for pkg, files in FONTS.items() if not all((ROOT / f).is_file() for f in files)]


def available() -> list[Path]:
    """Every installed font file of ``FONTS``, in a fixed order."""
    return [ROOT / f for files in FONTS.values() for f in files if (ROOT / f).is_file()]


def bundled(part: str) -> list[Path]:
    """Matplotlib's font files of ``BUNDLED[part]``, in that order."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return [folder / name for name in BUNDLED[part]]


def glyph(text: str, font: Path, px: int) -> Image.Image:
    """``text`` in white on black, cropped to its ink, its font size ``px``."""
    face = ImageFont.truetype(str(font), px)
    left, top, right, bottom = face.getbbox(text)
    img = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, font=face, fill=255)
    return img.crop(img.getbbox())


def font_mask(label: int, size: tuple[int, int], rng: np.random.Generator, font: Path) -> np.ndarray:
    """The coverage 0..1 (H×W float) of ``label`` typed in ``font``, slanted, 35-70% of the sheet's short side
    tall and off centre."""
    h, w = size
    height = max(8, round(rng.uniform(0.35, 0.7) * min(h, w))) * SUPERSAMPLE
    img = glyph(str(label), font, height)
    img = img.resize((max(1, round(img.width * height / img.height * rng.uniform(0.8, 1.15))), height),
                     Image.Resampling.LANCZOS)
    slant = rng.uniform(-0.3, 0.3)  # shear: x' = x + slant·(y - h/2)
    pad = round(abs(slant) * height / 2) + 2
    img = img.transform((img.width + 2 * pad, img.height), Image.Transform.AFFINE,
                        (1, slant, -pad - slant * height / 2, 0, 1, 0), Image.Resampling.BILINEAR)
    img = img.rotate(rng.uniform(-8, 8), Image.Resampling.BILINEAR, expand=True)
    img = img.resize((max(1, img.width // SUPERSAMPLE), max(1, img.height // SUPERSAMPLE)), Image.Resampling.BOX)
    gh, gw = min(img.height, h), min(img.width, w)
    top = int(rng.integers(0, h - gh + 1) * 0.6 + (h - gh) * 0.2)  # anywhere, rarely against the edge
    left = int(rng.integers(0, w - gw + 1) * 0.6 + (w - gw) * 0.2)
    out = np.zeros(size)
    out[top:top + gh, left:left + gw] = np.asarray(img, np.float64)[:gh, :gw] / 255.0
    return out
