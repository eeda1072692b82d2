"""Procedural street scenes in the real Cityscapes, ADE20K or COCO-Stuff file layouts.

    python -m data.demo_scenes --format cityscapes --out datasets/demo
    python -m data.demo_scenes --format ade20k --out datasets/demo_ade --num_train 50 --num_val 5

or `from data.demo_scenes import make_demo; make_demo(out, fmt='coco')`. The same seed gives
the same files. `--dataset_mode demo` calls this on first use (format cityscapes).

Each class has its own colour and its own texture, so the local binary patterns
(LBP) that ULBPGAN predicts carry information about the class:

  class        colour                       texture                          Cityscapes  ADE20K  COCO-Stuff
  sky          blue -> pale blue gradient   soft cloud noise                  23          3       156 sky-other
  building     brick red / sand / grey      brick courses + window grid       11          2       95 building-other
  road         dark asphalt grey            fine grain + white lane dashes    7           7       148 road
  sidewalk     light pinkish grey           square paving tiles               8           12      139 pavement
  vegetation   green                        coarse leafy blotches             21          5 tree  168 tree
  terrain      olive green                  diagonal stripes                  22          10 grass 123 grass
  pole         metal grey                   horizontal bands                  17          94      131 metal
  car          red (varies per car)         body + dark windows + black tyres 26 (thing)  21      2 car (thing)
  person       blue shirt, dark legs        skin-coloured head                24 (thing)  13      0 person (thing)
  ego vehicle  near-black bonnet            glossy gradient                   1           0 (don't care) 255 (unlabelled)

Scenes vary with the seed: horizon height, vanishing point, road width, building
count/heights/colours, trees, poles, cars and people (positions, sizes, counts).
Instance maps: Cityscapes instanceIds (stuff = class id, things = class*1000+k,
16-bit PNG); COCO *_inst PNGs (0 = stuff, 1..n = one id per car/person).
"""
import argparse
import os
import time

import numpy as np
from PIL import Image

CLASSES = ('void', 'sky', 'building', 'road', 'sidewalk', 'vegetation', 'terrain', 'pole', 'car', 'person')
VOID, SKY, BUILDING, ROAD, SIDEWALK, VEGETATION, TERRAIN, POLE, CAR, PERSON = range(len(CLASSES))
THINGS = (CAR, PERSON)

# Label value of each internal class (index = class above) in each format's files.
LABEL_IDS = {
    'cityscapes': (1, 23, 11, 7, 8, 21, 22, 17, 26, 24),
    'ade20k': (0, 3, 2, 7, 12, 5, 10, 94, 21, 13),
    'coco': (255, 156, 95, 148, 139, 168, 123, 131, 2, 0),
}
DEFAULT_SIZE = {'cityscapes': (256, 128), 'ade20k': (128, 128), 'coco': (128, 128)}
DEFAULT_COUNTS = (200, 20)
CITIES = {'train': ('aachen', 'bremen'), 'val': ('frankfurt',)}


def smooth_noise(rng, h, w, cell):
    """Noise in [-1, 1] varying over about `cell` pixels (bilinear upsampling of a coarse grid)."""
    coarse = rng.uniform(-1, 1, (h // cell + 2, w // cell + 2)).astype(np.float32)
    up = Image.fromarray(coarse).resize(((w // cell + 2) * cell, (h // cell + 2) * cell),
                                                  Image.Resampling.BILINEAR)
    return np.asarray(up)[:h, :w]


class Canvas:
    """Class map, instance map and RGB image drawn together, so they always agree."""

    def __init__(self, h, w):
        self.cls = np.full((h, w), SKY, np.int64)
        self.inst = np.zeros((h, w), np.int64)
        self.rgb = np.zeros((h, w, 3), np.float32)
        self.y, self.x = np.mgrid[0:h, 0:w].astype(np.float32)
        self.count = {c: 0 for c in THINGS}

    def paint(self, mask, cls, colour):
        """Set `mask` to class `cls`; colour is an RGB triple or an HxWx3 array."""
        self.cls[mask] = cls
        self.inst[mask] = 0
        self.rgb[mask] = np.broadcast_to(colour, self.rgb.shape)[mask]

    def new_instance(self, cls):
        self.count[cls] += 1
        return self.count[cls]


def shade(base, factor):
    """HxWx3 image of colour `base` scaled by the HxW brightness map `factor`."""
    return np.asarray(base, np.float32) * factor[..., None]


def draw_sky(c, rng, horizon):
    t = np.clip(c.y / max(horizon, 1), 0, 1)[..., None]
    grad = (1 - t) * np.array([70, 120, 200], np.float32) + t * np.array([175, 205, 235], np.float32)
    clouds = np.clip(smooth_noise(rng, *c.cls.shape, 16), 0, 1)[..., None] * 60
    c.paint(np.ones_like(c.cls, bool), SKY, grad + clouds)


def draw_buildings(c, rng, horizon):
    h, w = c.cls.shape
    edges = np.sort(rng.uniform(0, w, rng.integers(2, 6)))
    edges = np.concatenate([[0], edges, [w]])
    palette = ([160, 80, 60], [200, 170, 120], [130, 130, 140], [170, 110, 90])
    for left, right in zip(edges[:-1], edges[1:]):
        if rng.random() < 0.2:
            continue  # a gap shows the sky
        top = horizon - rng.uniform(0.15, 0.45) * h
        mask = (c.x >= left) & (c.x < right - 1) & (c.y >= top) & (c.y < horizon)
        bx, by = c.x - left, c.y - top
        # bricks: a mortar line every 4 rows, joints every 8 px shifted by 4 on odd courses
        mortar = (by % 4 < 1) | ((bx + 4 * ((by // 4) % 2)) % 8 < 1)
        windows = (bx % 10 >= 3) & (bx % 10 < 7) & (by % 12 >= 3) & (by % 12 < 9)
        colour = shade(palette[rng.integers(len(palette))], np.where(mortar, 0.7, 1.0))
        colour[windows] = [40, 60, 90]
        c.paint(mask, BUILDING, colour)


def draw_trees(c, rng, horizon):
    h, w = c.cls.shape
    leaves = 1 + 0.35 * smooth_noise(rng, h, w, 3)
    colour = shade([60, 130, 50], leaves)
    for _ in range(rng.integers(1, 4)):
        cx, r = rng.uniform(0, w), rng.uniform(0.08, 0.2) * h
        cy = horizon - r * rng.uniform(0.3, 1.0)
        mask = ((c.x - cx) / (1.3 * r)) ** 2 + ((c.y - cy) / r) ** 2 < 1
        c.paint(mask, VEGETATION, colour)


def draw_ground(c, rng, horizon, vx, road_half):
    """Road trapezoid to the vanishing point, sidewalks beside it, terrain beyond."""
    h, w = c.cls.shape
    t = np.clip((c.y - horizon) / (h - horizon), 0, 1)  # 0 at the horizon, 1 at the bottom
    dx = np.abs(c.x - vx)
    below = c.y >= horizon
    terrain = shade([150, 160, 90], np.where((c.x + c.y) % 6 < 2, 0.8, 1.0))
    c.paint(below, TERRAIN, terrain)
    tiles = (c.x % 6 < 1) | (c.y % 6 < 1)
    c.paint(below & (dx < t * road_half * 1.5), SIDEWALK, shade([190, 170, 165], np.where(tiles, 0.8, 1.0)))
    grain = 1 + 0.12 * rng.standard_normal(c.cls.shape).astype(np.float32)
    asphalt = shade([80, 80, 85], grain)
    dashes = (dx < 0.5 + t * w * 0.01) & (np.sin(30 / (t + 0.05)) > 0.3)
    asphalt[dashes] = [230, 230, 225]
    c.paint(below & (dx < t * road_half), ROAD, asphalt)


def draw_poles(c, rng, horizon, vx, road_half):
    h, _ = c.cls.shape
    for _ in range(rng.integers(0, 3)):
        t = rng.uniform(0.3, 0.9)
        base = horizon + t * (h - horizon)
        px = vx + rng.choice([-1, 1]) * t * road_half * 1.25
        width, height = max(1.0, 3 * t), 0.7 * h * t
        mask = (np.abs(c.x - px) < width) & (c.y < base) & (c.y > base - height)
        c.paint(mask, POLE, shade([150, 150, 160], np.where(c.y % 5 < 1, 0.75, 1.0)))


def draw_car(c, rng, horizon, vx, road_half, t):
    h, _ = c.cls.shape
    base = horizon + t * (h - horizon)
    cw = road_half * t * rng.uniform(0.5, 0.8)
    cx = vx + rng.uniform(-0.6, 0.6) * (t * road_half - cw / 2)
    ch = cw * 0.5
    body = (np.abs(c.x - cx) < cw / 2) & (c.y < base - ch * 0.15) & (c.y > base - ch * 0.6)
    cabin = (np.abs(c.x - cx) < cw * (0.3 - 0.1 * (base - ch * 0.6 - c.y) / (ch * 0.4))) & \
            (c.y <= base - ch * 0.6) & (c.y > base - ch)
    wheels = ((np.abs(np.abs(c.x - cx) - cw * 0.3) < cw * 0.1) & (c.y >= base - ch * 0.15) & (c.y < base))
    red = np.array([200, 30, 35], np.float32) * rng.uniform(0.7, 1.1)
    # a highlight stripe along the body and dark windows on the cabin
    colour = shade(red, np.where(np.abs(c.y - (base - ch * 0.45)) < max(1, ch * 0.05), 1.3, 1.0))
    colour[cabin] = [40, 50, 70]
    colour[wheels] = [15, 15, 15]
    mask = body | cabin | wheels
    c.paint(mask, CAR, colour)
    c.inst[mask] = c.new_instance(CAR)


def draw_person(c, rng, horizon, vx, road_half, t):
    h, _ = c.cls.shape
    base = horizon + t * (h - horizon)
    px = vx + rng.choice([-1, 1]) * t * road_half * rng.uniform(1.1, 1.4)
    ph = 0.45 * h * t
    pw = ph * 0.25
    head = (c.x - px) ** 2 + (c.y - (base - ph * 0.9)) ** 2 < (ph * 0.1) ** 2
    torso = (np.abs(c.x - px) < pw / 2) & (c.y >= base - ph * 0.8) & (c.y < base - ph * 0.45)
    legs = (np.abs(np.abs(c.x - px) - pw * 0.25) < pw * 0.15) & (c.y >= base - ph * 0.45) & (c.y < base)
    colour = np.empty_like(c.rgb)
    colour[:] = [40, 40, 60]
    colour[torso] = [60, 90, 180]
    colour[head] = [220, 180, 150]
    mask = head | torso | legs
    c.paint(mask, PERSON, colour)
    c.inst[mask] = c.new_instance(PERSON)


def draw_ego(c):
    """The recording car's bonnet at the bottom, as in Cityscapes (unlabelled elsewhere)."""
    h, w = c.cls.shape
    top = h * (1 - 0.08 * (1 - 0.5 * ((c.x - w / 2) / (w / 2)) ** 2))
    mask = c.y >= top
    c.paint(mask, VOID, shade([30, 30, 35], 1 + 0.5 * (h - c.y) / h))


def render_scene(rng, w, h):
    """One scene: (class map, instance map, uint8 RGB image), all HxW."""
    c = Canvas(h, w)
    horizon = h * rng.uniform(0.4, 0.55)
    vx = w * rng.uniform(0.35, 0.65)
    road_half = w * rng.uniform(0.3, 0.5)
    draw_sky(c, rng, horizon)
    draw_buildings(c, rng, horizon)
    draw_trees(c, rng, horizon)
    draw_ground(c, rng, horizon, vx, road_half)
    draw_poles(c, rng, horizon, vx, road_half)
    # depth t: 0 at the horizon, 1 at the bottom; far objects first so near ones occlude them
    objects = [(rng.uniform(0.25, 0.95), draw_car) for _ in range(rng.integers(1, 5))]
    objects += [(rng.uniform(0.3, 0.9), draw_person) for _ in range(rng.integers(0, 3))]
    for t, draw in sorted(objects, key=lambda o: o[0]):
        draw(c, rng, horizon, vx, road_half, t)
    draw_ego(c)
    return c.cls, c.inst, np.clip(c.rgb, 0, 255).astype(np.uint8)


def encode(fmt, cls, inst):
    """Label (and instance) arrays in the file conventions of `fmt`."""
    label = np.asarray(LABEL_IDS[fmt], np.uint8)[cls]
    if fmt == 'cityscapes':
        instance = np.where(inst > 0, label.astype(np.int64) * 1000 + inst - 1, label)
        return label, instance.astype(np.uint16)
    if fmt == 'coco':
        # one id per object across classes: cars 1..n, persons after them
        offset = np.where(cls == PERSON, inst.max(initial=0, where=cls == CAR), 0)
        return label, np.where(inst > 0, inst + offset, 0).astype(np.uint8)
    return label, None


def sample_paths(out, fmt, split, i, index):
    """(image, label, instance) paths of sample i of `split`; `index` is unique over splits."""
    if fmt == 'cityscapes':
        cities = CITIES[split]
        city = cities[i % len(cities)]
        stem = f'{city}_{i // len(cities):06d}_{19 + i:06d}'
        gt = os.path.join(out, 'gtFine', split, city, stem)
        return (os.path.join(out, 'leftImg8bit', split, city, stem + '_leftImg8bit.png'),
                gt + '_gtFine_labelIds.png', gt + '_gtFine_instanceIds.png')
    if fmt == 'ade20k':
        folder = 'training' if split == 'train' else 'validation'
        stem = f'ADE_{split}_{i + 1:08d}'
        return (os.path.join(out, 'images', folder, stem + '.jpg'),
                os.path.join(out, 'annotations', folder, stem + '.png'), None)
    stem = f'{index:012d}'
    return tuple(os.path.join(out, f'{split}_{kind}', stem + ext)
                 for kind, ext in (('img', '.jpg'), ('label', '.png'), ('inst', '.png')))


def save(array, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, **({'quality': 95} if path.endswith('.jpg') else {}))


def make_demo(out, fmt='cityscapes', num_train=None, num_val=None, width=None, height=None, seed=0):
    """Write num_train + num_val scenes of width x height to `out` in format `fmt`; returns a summary line."""
    if fmt not in LABEL_IDS:
        raise ValueError(f"format {fmt!r}: choose one of {', '.join(LABEL_IDS)}")
    num_train = DEFAULT_COUNTS[0] if num_train is None else num_train
    num_val = DEFAULT_COUNTS[1] if num_val is None else num_val
    width = width or DEFAULT_SIZE[fmt][0]
    height = height or DEFAULT_SIZE[fmt][1]
    start = time.time()
    pixels = np.zeros(len(CLASSES))
    for split, n, split_id in (('train', num_train, 0), ('val', num_val, 1)):
        for i in range(n):
            # one generator per image: the same seed and index always give the same scene
            rng = np.random.default_rng((seed, split_id, i))
            cls, inst, rgb = render_scene(rng, width, height)
            pixels += np.bincount(cls.ravel(), minlength=len(CLASSES))
            label, instance = encode(fmt, cls, inst)
            image_path, label_path, instance_path = sample_paths(out, fmt, split, i, split_id * num_train + i + 1)
            save(rgb, image_path)
            save(label, label_path)
            if instance is not None:
                save(instance, instance_path)
    share = ', '.join(f'{name} {p:.0%}' for name, p in zip(CLASSES, pixels / max(pixels.sum(), 1)))
    return (f"{fmt} demo: {num_train} train + {num_val} val scenes of {width}x{height} in {out} "
            f"({time.time() - start:.1f} s); pixels: {share}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--format', default='cityscapes', choices=sorted(LABEL_IDS))
    parser.add_argument('--out', required=True, help='output folder (the --dataroot to train on)')
    parser.add_argument('--num_train', type=int, default=DEFAULT_COUNTS[0])
    parser.add_argument('--num_val', type=int, default=DEFAULT_COUNTS[1])
    parser.add_argument('--width', type=int, default=None, help='default 256 for cityscapes, 128 otherwise')
    parser.add_argument('--height', type=int, default=None, help='default 128')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    print(make_demo(args.out, args.format, args.num_train, args.num_val, args.width, args.height, args.seed))


if __name__ == '__main__':
    main()
