"""Write a small colour image set that is not MNIST, as a user keeps one: folders of PNG files, one sub-folder per
class (circle, ring, square, triangle, cross), 32x32 RGB, each shape at a random size, place, turn and colour on a
random background, with noise. Seeded, so the same command writes the same files.

    python benchmarks/make_shapes.py OUT [--train 2000] [--test 400] [--seed 0]

writes OUT/train/<class>/*.png and OUT/test/<class>/*.png (per class: --train and --test images).
"""

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIDE = 32
CLASSES = ("circle", "ring", "square", "triangle", "cross")


def polygon(centre, radius: float, corners: int, turn: float) -> list[tuple[float, float]]:
    return [(centre[0] + radius * math.cos(turn + 2 * math.pi * k / corners),
             centre[1] + radius * math.sin(turn + 2 * math.pi * k / corners)) for k in range(corners)]


def draw(shape: str, rng: np.random.Generator) -> np.ndarray:
    """One image of `shape`: drawn at 4 times the size and scaled down, so edges are smooth."""
    scale = 4
    background = tuple(int(v) for v in rng.integers(0, 120, 3))
    colour = tuple(int(v) for v in rng.integers(110, 256, 3))
    image = Image.new("RGB", (SIDE * scale, SIDE * scale), background)
    pen = ImageDraw.Draw(image)
    radius = rng.uniform(6, 12) * scale
    centre = rng.uniform(radius + scale, SIDE * scale - radius - scale, 2)
    turn = rng.uniform(0, 2 * math.pi)
    box = [centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius]
    if shape == "circle":
        pen.ellipse(box, fill=colour)
    elif shape == "ring":
        pen.ellipse(box, outline=colour, width=int(radius * rng.uniform(0.25, 0.4)))
    elif shape == "square":
        pen.polygon(polygon(centre, radius, 4, turn), fill=colour)
    elif shape == "triangle":
        pen.polygon(polygon(centre, radius, 3, turn), fill=colour)
    else:  # a cross: two bars through the centre
        width = radius * rng.uniform(0.3, 0.45)
        for angle in (turn, turn + math.pi / 2):
            dx = math.cos(angle)
            dy = math.sin(angle)
            ends = [(centre[0] + s * radius * dx + t * width * -dy, centre[1] + s * radius * dy + t * width * dx)
                    for s, t in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            pen.polygon(ends, fill=colour)
    pixels = np.asarray(image.resize((SIDE, SIDE), Image.Resampling.LANCZOS), dtype=np.float64)
    pixels += rng.normal(0, 8, pixels.shape)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="folder to write train/ and test/ into")
    parser.add_argument("--train", type=int, default=2000, help="training images per class (default 2000)")
    parser.add_argument("--test", type=int, default=400, help="test images per class (default 400)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for part, count in (("train", args.train), ("test", args.test)):
        for shape in CLASSES:
            folder = Path(args.out) / part / shape
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                Image.fromarray(draw(shape, rng)).save(folder / f"{i:05d}.png")
    print(f"wrote {len(CLASSES) * (args.train + args.test)} images of {SIDE}x{SIDE}x3 in {len(CLASSES)} classes "
          f"to {args.out}/train and {args.out}/test")


if __name__ == "__main__":
    main()
