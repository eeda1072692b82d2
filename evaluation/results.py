"""The folder test.py writes and evaluation reads: its layout in one place.

results/<name>/<phase>_<epoch>/images/ holds, per sample stem (the image file's stem):
synthesized_image/ and real_image/ (8-bit RGB at the model's resolution), label_ids/ (the label
map the model saw: ADE20K 0..149 + 150 don't-care, COCO 0..181 + 182 don't-care, Cityscapes raw
ids 0..33) and synthesized_lbp/ (the generator's own LBP codes, one channel). metrics.json is
written next to images/.
"""
import os

import numpy as np
import torch
from PIL import Image

from util.errors import UserError
from util.images import save_png


def run_dir(results_dir, name, phase, which_epoch='latest'):
    return os.path.join(results_dir, name, f'{phase}_{which_epoch}')


def images_dir(results_dir, name, phase, which_epoch='latest'):
    return os.path.join(run_dir(results_dir, name, phase, which_epoch), 'images')


def stem_of(path):
    """A sample's stem, which names its files in every kind's folder: the image file's name without extension."""
    return os.path.splitext(os.path.basename(path))[0]


def save_ids(ids, path):
    """A label map as a PNG of ids: 8-bit when they fit, else 16-bit."""
    save_png(ids.astype(np.uint8 if ids.max() < 256 else np.uint16), path)


def save_sample(folder, stem, pictures, label_ids):
    """One sample's pictures ({kind: H×W(×3) uint8}) and label ids into folder/images/<kind>/<stem>.png ->
    {kind: link relative to folder}."""
    links = {}
    for kind, picture in pictures.items():
        links[kind] = f'images/{kind}/{stem}.png'
        os.makedirs(os.path.join(folder, 'images', kind), exist_ok=True)
        save_png(picture, os.path.join(folder, links[kind]))
    links['label_ids'] = f'images/label_ids/{stem}.png'
    os.makedirs(os.path.join(folder, 'images', 'label_ids'), exist_ok=True)
    save_ids(label_ids, os.path.join(folder, links['label_ids']))
    return links


def list_stems(images_dir):
    """File stems of synthesized_image/*.png, each of which must have a real_image twin."""
    synth_dir = os.path.join(images_dir, 'synthesized_image')
    if not os.path.isdir(synth_dir):
        raise UserError(f"{synth_dir}: no such folder; run test.py with the same --name/--phase/--which_epoch "
                        f"first (or check --results_dir)")
    stems = sorted(f[:-4] for f in os.listdir(synth_dir) if f.endswith('.png'))
    if not stems:
        raise UserError(f"{synth_dir}: no .png images; run test.py first")
    missing = [s for s in stems if not os.path.isfile(os.path.join(images_dir, 'real_image', s + '.png'))]
    if missing:
        raise UserError(f"{os.path.join(images_dir, 'real_image', missing[0] + '.png')}: missing "
                        f"({len(missing)} real images missing); test.py writes real and synthesized images together")
    return stems


def read_rgb(images_dir, kind, stem):
    """H×W×3 uint8 array of images/<kind>/<stem>.png (a writable copy, as torch.from_numpy wants)."""
    return np.array(Image.open(os.path.join(images_dir, kind, stem + '.png')).convert('RGB'))


def read_ids(path, shape=None):
    """A label or code PNG (8 or 16 bit) as an int64 array, resized (nearest) to shape=(H, W) if given."""
    img = Image.open(path)
    if shape is not None and img.size != (shape[1], shape[0]):
        img = img.resize((shape[1], shape[0]), Image.NEAREST)
    return np.asarray(img).astype(np.int64)


def same_size(real, shape):
    """A real image of another size than the synthesized one (H, W[, 3]), resized to it (bicubic)."""
    if real.shape[:2] == tuple(shape[:2]):
        return real
    return np.array(Image.fromarray(real).resize((shape[1], shape[0]), Image.BICUBIC))


def label_ids(images_dir, stem, shape):
    """The label map the model saw, at the synthesized image's size."""
    path = os.path.join(images_dir, 'label_ids', stem + '.png')
    if not os.path.isfile(path):
        raise UserError(f"{path}: missing; test.py writes label_ids/ next to synthesized_image/ "
                        f"(or pass --no_seg)")
    return read_ids(path, shape)


def generated_lbp(images_dir, stem, shape):
    """The generator's LBP codes at `shape`, or None when test.py wrote none (e.g. --netG spade)."""
    path = os.path.join(images_dir, 'synthesized_lbp', stem + '.png')
    return read_ids(path, shape) if os.path.isfile(path) else None


def batches_of_same_shape(keys):
    """Indices grouped by key (e.g. image shape), so every group stacks into one batch."""
    groups = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def to_tensor(rgb8_list):
    """Same-sized H×W×3 uint8 arrays -> N×3×H×W uint8 tensor."""
    return torch.from_numpy(np.stack(rgb8_list)).permute(0, 3, 1, 2)
