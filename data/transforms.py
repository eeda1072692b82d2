"""Preprocessing: how a sample's label, instance and image maps are resized, cropped and flipped, the
same for every `--dataset_mode` (data/base_dataset.py reads the files, this module shapes them).

Preprocessing (`--preprocess_mode`), for an image of W x H; the crop window is
crop_size x round(crop_size / aspect_ratio) (square when aspect_ratio is 1, as SPADE):
  resize_and_crop           resize to load_size x round(load_size / aspect_ratio), random crop
  crop                      random crop of the original
  scale_width(_and_crop)    width -> load_size keeping the aspect (then random crop)
  scale_shortside(_and_crop) shorter side -> load_size keeping the aspect (then random crop)
  fixed                     resize to crop_size x round(crop_size / aspect_ratio), no crop
  none                      each side rounded to the nearest multiple of 32 (at least 32),
                            so the generator's down/upsampling lines up
Images are resized BICUBIC, labels and instance maps NEAREST; then a horizontal
flip with probability 1/2 when training without --no_flip. A crop window bigger
than the scaled image is refused (it would pad with fake class 0).

Randomness: each sample's crop and flip come from its own generator, seeded by
(--seed, epoch, index) (`sample_generator`). The training sampler hands the dataset
(epoch, index) keys, so augmentation is the same whatever the worker count, and a
run resumed mid-epoch draws exactly what the uninterrupted run would have.
"""
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from util.errors import UserError

CROP_MODES = ('resize_and_crop', 'crop', 'scale_width_and_crop', 'scale_shortside_and_crop')


def image_size(crop_size, aspect_ratio):
    """(height, width) of the images from --crop_size and --aspect_ratio (width / height): what the
    loaders make (the crop window, 'fixed''s resize) and what the networks are built for."""
    return round(crop_size / aspect_ratio), crop_size


@dataclass(frozen=True)
class Preprocess:
    """How every map of a sample is resized, cropped and flipped (the module docstring has the modes).

    mode, load_size, crop_size, aspect_ratio: --preprocess_mode and its sizes; flip: a random
    horizontal flip (training without --no_flip)."""
    mode: str = 'fixed'
    load_size: int = 256
    crop_size: int = 256
    aspect_ratio: float = 1.0
    flip: bool = False

    @property
    def crop_shape(self):
        """(width, height) of the crop window and of 'fixed' outputs (PIL's order)."""
        h, w = image_size(self.crop_size, self.aspect_ratio)
        return w, max(1, h)


def scaled_size(prep, size):
    """(width, height) after the resize step of the Preprocess, before cropping."""
    w, h = size
    mode = prep.mode
    if mode == 'resize_and_crop':
        h, w = image_size(prep.load_size, prep.aspect_ratio)
        return w, max(1, h)
    if mode.startswith('scale_width'):
        return prep.load_size, max(1, round(prep.load_size * h / w))
    if mode.startswith('scale_shortside'):
        s = prep.load_size / min(w, h)
        return max(1, round(w * s)), max(1, round(h * s))
    if mode == 'fixed':
        return prep.crop_shape
    if mode == 'none':
        return max(32, int(w / 32 + 0.5) * 32), max(32, int(h / 32 + 0.5) * 32)
    return w, h


def sample_generator(seed, epoch, index):
    """The RNG of one sample's augmentation: a pure function of (seed, epoch, index)."""
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 1_000_003 + index) % 2 ** 63)


def get_params(prep, size, path='', generator=None):
    """Random crop position (in the scaled image) and flip for an image of `size` = (w, h)."""
    sw, sh = scaled_size(prep, size)
    cw, ch = prep.crop_shape
    x = y = 0
    if prep.mode in CROP_MODES:
        if sw < cw or sh < ch:
            raise UserError(f"{path}: {size[0]}x{size[1]} becomes {sw}x{sh} with --preprocess_mode "
                            f"{prep.mode} --load_size {prep.load_size}, smaller than the {cw}x{ch} crop "
                            f"(--crop_size {prep.crop_size}, --aspect_ratio {prep.aspect_ratio}); raise --load_size "
                            f"or lower --crop_size")
        x = int(torch.randint(0, sw - cw + 1, (), generator=generator))
        y = int(torch.randint(0, sh - ch + 1, (), generator=generator))
    flip = bool(prep.flip and torch.rand((), generator=generator) < 0.5)
    return {'crop_pos': (x, y), 'flip': flip}


def apply_geometry(img, prep, params, resample):
    """Resize, crop and flip a PIL image exactly as every other map of the same sample."""
    size = scaled_size(prep, img.size)
    if size != img.size:
        img = img.resize(size, resample)
    if prep.mode in CROP_MODES:
        (x, y), (cw, ch) = params['crop_pos'], prep.crop_shape
        img = img.crop((x, y, x + cw, y + ch))
    if params['flip']:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img


def transform_image(img, prep, params):
    """RGB PIL image -> FloatTensor 3xHxW in [-1, 1]."""
    img = apply_geometry(img, prep, params, Image.Resampling.BICUBIC)
    arr = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def resize_label(label, crop_size, aspect_ratio):
    """Integer id array -> H×W int64 ids at the size of --crop_size and --aspect_ratio (nearest neighbour)."""
    return transform_label(label, Preprocess('fixed', crop_size=crop_size, aspect_ratio=aspect_ratio),
                           {'crop_pos': (0, 0), 'flip': False})[0].numpy()


def transform_label(label, prep, params):
    """Integer id array HxW -> LongTensor 1xHxW (NEAREST, so ids are never blended)."""
    img = Image.fromarray(np.ascontiguousarray(label, dtype=np.int32))
    img = apply_geometry(img, prep, params, Image.Resampling.NEAREST)
    return torch.from_numpy(np.asarray(img).astype(np.int64))[None]
