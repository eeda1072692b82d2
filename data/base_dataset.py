"""Base dataset and SPADE-style transforms shared by every `--dataset_mode`.

What a data sample looks like
-----------------------------
`dataset[i]` (and, batched, each DataLoader batch) is a dict::

    {'label':    LongTensor 1xHxW   class ids 0..label_nc-1; when --contain_dontcare_label
                                    the don't-care value is label_nc (so 0..label_nc),
     'instance': LongTensor 1xHxW   instance ids as stored in the dataset (Cityscapes:
                                    class id for stuff, class*1000+k for things; COCO:
                                    one id per object), or torch.tensor(0) with --no_instance,
     'image':    FloatTensor 3xHxW  RGB in [-1, 1],
     'path':     str                the image file's path}

H x W is image_size(crop_size, aspect_ratio) = (round(crop_size / aspect_ratio), crop_size) for
the `*crop` and `fixed` modes. The model turns instance ids into an edge map itself, as SPADE does.

Label ids after each dataset's mapping (`map_label`):
  * default: the file's values are the ids; with --contain_dontcare_label the raw
    value 255 becomes the don't-care id label_nc (COCO-Stuff: 255 -> 182);
  * ADE20K: raw 0 (unlabelled) -> 150, raw 1..150 -> 0..149.
A value that is neither a class id nor the don't-care id is refused with the file
and value named.

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

Input checks: unreadable, truncated or empty files, image/label size mismatches,
colour (RGB) label maps and out-of-range label values all raise UserError naming
the file. Grayscale, palette and RGBA images are converted to RGB; palette ('P'),
'L' and 16-bit label maps are read as integer ids (never through their palette).
"""
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

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


class BaseDataset(Dataset):
    """Paired label/image(/instance) files -> sample dicts (see the module docstring).

    Built from explicit arguments (data.create_dataset is what reads the options):
      root             the dataset's folder (--dataroot)
      phase            train, val or test: which split
      label_nc, contain_dontcare_label   the label ids (check_label_values, map_label); a
                       subclass's LABEL_NC / CONTAIN_DONTCARE_LABEL are its dataset's, SPADE's
                       defaults of those options
      instances        read instance maps (not --no_instance)
      preprocess       a Preprocess; None for a dataset that is only listed (its files), not read
      max_size         at most this many samples (--max_dataset_size)
      pairing_check    label, image and instance file names must match (not --no_pairing_check)
      seed             of each sample's crop and flip (--seed)

    Subclasses define `get_paths()` -> (label_paths, image_paths, instance_paths), each sorted,
    instance_paths empty without instances; optionally `pair_key(path)` (the part of a file name
    that must match across the three lists) and `map_label`.
    """
    LABEL_NC = None
    CONTAIN_DONTCARE_LABEL = False
    # The fix an out-of-range label value's error suggests; a dataset with fixed ids says where they come from.
    LABEL_FIX = "check --label_nc / --contain_dontcare_label"

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        return parser

    def __init__(self, root=None, phase='train', label_nc=None, contain_dontcare_label=False, instances=True,
                 preprocess=None, max_size=None, pairing_check=True, seed=0):
        if label_nc is None:
            raise UserError(f"{type(self).__name__} needs the number of label classes (--label_nc)")
        self.root, self.phase, self.instances = root, phase, instances
        self.label_nc, self.contain_dontcare_label = label_nc, contain_dontcare_label
        self.preprocess, self.seed = preprocess, seed
        labels, images, instances = self.get_paths()
        self.check_counts(labels, images, instances, pairing_check)
        labels, images, instances = labels[:max_size], images[:max_size], instances[:max_size]
        if pairing_check:
            self.check_pairing(labels, images, instances)
        self.label_paths, self.image_paths, self.instance_paths = labels, images, instances

    def get_paths(self):
        raise NotImplementedError

    def pair_key(self, path):
        """Label, image and instance files of one sample share this key (`sample_key`)."""
        return sample_key(path)

    @classmethod
    def map_label(cls, label, label_nc, contain_dontcare_label):
        """Raw file values -> class ids; 255 is the don't-care value when the dataset has one."""
        if contain_dontcare_label:
            label = np.where(label == 255, label_nc, label)
        return label

    def label_ids(self, raw):
        """map_label with this dataset's label settings."""
        return self.map_label(raw, self.label_nc, self.contain_dontcare_label)

    def check_counts(self, labels, images, instances, pairing_check=True):
        if not images:
            raise UserError(f"no images found in {self.where()} for --phase {self.phase}; "
                            f"expected {self.layout()}")
        if len(labels) != len(images) or (self.instances and len(instances) != len(images)):
            inst = f", {len(instances)} instance maps (or pass --no_instance)" if self.instances else ''
            which = self.unpaired(labels, images, instances) if pairing_check else ''
            raise UserError(f"{self.where()}: {len(labels)} label maps but {len(images)} images{inst} "
                            f"for --phase {self.phase}{which}; every image needs exactly one of each "
                            f"({self.layout()})")

    def unpaired(self, labels, images, instances):
        """', <file> has no <partner>' for the first file whose pair_key no file of another kind shares,
        so that a count mismatch names the file to add or remove; '' when every key is shared."""
        kinds = {'label map': labels, 'image': images, **({'instance map': instances} if self.instances else {})}
        keys = {kind: {self.pair_key(p) for p in paths} for kind, paths in kinds.items()}
        for kind, paths in kinds.items():
            for path in paths:
                missing = [other for other in kinds if other != kind and self.pair_key(path) not in keys[other]]
                if missing:
                    return f", {path} has no {' and no '.join(missing)}"
        return ''

    def check_pairing(self, labels, images, instances):
        for i, (label, image) in enumerate(zip(labels, images)):
            others = [label] + ([instances[i]] if instances else [])
            for other in others:
                if self.pair_key(other) != self.pair_key(image):
                    raise UserError(f"{other} does not match {image} (sorted pair #{i}: "
                                    f"'{self.pair_key(other)}' != '{self.pair_key(image)}'); fix the file names, "
                                    f"or pass --no_pairing_check to pair files by sorted order")

    def where(self):
        """The option naming where the data lives, for error messages."""
        return f"--dataroot {self.root}"

    def layout(self):
        """One line describing the expected folder layout, for error messages."""
        return type(self).__name__

    def __len__(self):
        return len(self.image_paths)

    def __getitem__(self, key):
        epoch, index = key if isinstance(key, tuple) else (0, key)
        prep = self.preprocess
        label_path, image_path = self.label_paths[index], self.image_paths[index]
        raw = read_label(label_path)
        label = self.label_ids(raw)
        check_label_values(label, raw, label_path, self.label_nc, self.contain_dontcare_label, self.LABEL_FIX)
        image = read_image(image_path)
        check_same_size(image.size, label_path, image_path, raw)
        params = get_params(prep, image.size, image_path, sample_generator(self.seed, epoch, index))
        sample = {'label': transform_label(label, prep, params),
                  'instance': torch.tensor(0),
                  'image': transform_image(image, prep, params),
                  'path': image_path}
        if self.instances:
            instance = read_label(self.instance_paths[index])
            check_same_size(image.size, self.instance_paths[index], image_path, instance)
            sample['instance'] = transform_label(instance, prep, params)
        return sample


# Suffixes of Cityscapes-style names that say what a file holds; the rest of the stem names the sample.
KIND_SUFFIXES = ('_leftImg8bit', '_gtFine_labelIds', '_gtFine_instanceIds', '_gtFine_color', '_labelIds',
                 '_instanceIds')


def sample_key(path):
    """The sample a file belongs to: its stem without a kind suffix (a.png, a.jpg -> a;
    x_gtFine_labelIds.png, x_leftImg8bit.png -> x). Files of one sample share it."""
    stem = os.path.splitext(os.path.basename(path))[0]
    for suffix in KIND_SUFFIXES:
        if stem.endswith(suffix):
            return stem[:-len(suffix)]
    return stem


def set_cpu_defaults(parser, is_train):
    """The defaults of the modes sized for a 2-core CPU (demo, camvid): batches of 4, a narrow model
    (ngf/ndf 16, MFADE hidden width 32), and two training defaults left to BaseOptions.resolve because
    they depend on the machine: --amp auto and --channels_last (bf16 + channels_last on a CPU with bf16
    units, util/machine.py), and the VGG loss only when its weights are already at hand (--vgg_weights
    or the torch hub cache), so that these modes train offline."""
    parser.set_defaults(batchSize=4, ngf=16, nhidden=32)
    if is_train:
        parser.set_defaults(ndf=16, amp='auto', channels_last=None, no_vgg_loss=None)  # (decided by resolve)


def require_dir(path, what, layout):
    """UserError unless `path` is a directory; `what` says which option/folder it is."""
    if not os.path.isdir(path):
        raise UserError(f"{what} {path} not found; expected {layout}")


def list_files(folder, suffixes, layout, recursive=False):
    """Sorted files in `folder` (and its sub-folders when recursive) ending with one of `suffixes`."""
    require_dir(folder, 'folder', layout)
    if recursive:
        found = [os.path.join(d, f) for d, _, files in os.walk(folder) for f in files]
    else:
        found = [os.path.join(folder, f) for f in os.listdir(folder)]
    suffixes = tuple(s.lower() for s in ((suffixes,) if isinstance(suffixes, str) else suffixes))
    return sorted(p for p in found if p.lower().endswith(suffixes) and os.path.isfile(p))


def open_decoded(path, kind, name=None):
    """PIL image fully decoded now, so broken files fail here with their name, not in a worker.
    path may be a file object (an upload), then `name` names it in the error."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        raise UserError(f"{name or path}: cannot read this {kind} ({e}); the file is empty, truncated or not an "
                        f"image: re-export it or remove it (and its pair)") from None


def read_image(path):
    img = open_decoded(path, 'image')
    return img if img.mode == 'RGB' else img.convert('RGB')


def read_label(path):
    """Label or instance map as an integer array of ids (palette indices for 'P' files)."""
    return label_array(open_decoded(path, 'label map'), path)


def label_channels(img):
    """A decoded label image -> H×W values, or H×W×3 colours: an alpha channel is dropped, and grey
    RGB (ids saved as RGB) is one channel."""
    arr = np.asarray(img)
    if img.mode in ('LA', 'PA'):  # ids plus an alpha channel
        arr = arr[..., 0]
    if arr.ndim == 3:
        arr = arr[..., :3]
        if (arr == arr[..., :1]).all():
            arr = arr[..., 0]
    return arr


def label_array(img, path):
    """A decoded label image -> integer array of ids; `path` names it in errors (data/label_maps.py
    reads uploads with it too)."""
    arr = label_channels(img)
    if arr.ndim == 3:  # a colour visualisation cannot be turned back into ids safely
        raise UserError(f"{path}: label map is a colour ({img.mode}) image; save class ids as a "
                        f"single-channel (L, P or 16-bit) PNG")
    if arr.dtype.kind == 'f' and not np.all(arr == np.round(arr)):
        raise UserError(f"{path}: label map holds non-integer values; save class ids as an integer PNG")
    return arr.astype(np.int64)


def valid_ids(ids, label_nc, contain_dontcare_label):
    """Where ids are a class (0..label_nc-1) or, with a don't-care value, the don't-care id label_nc."""
    ok = (ids >= 0) & (ids < label_nc)
    if contain_dontcare_label:
        ok |= ids == label_nc
    return ok


def check_label_values(label, raw, path, label_nc, contain_dontcare_label, fix=BaseDataset.LABEL_FIX):
    """Every id must be a class or the don't-care id (valid_ids); `fix` ends the error."""
    ok = valid_ids(label, label_nc, contain_dontcare_label)
    if not ok.all():
        values = ', '.join(str(v) for v in np.unique(raw[~ok])[:5])
        dontcare = 'with' if contain_dontcare_label else 'without'
        raise UserError(f"{path}: label value(s) {values} out of range for --label_nc {label_nc} {dontcare} "
                        f"--contain_dontcare_label; {fix}")


def check_same_size(image_size, other_path, image_path, other):
    """Refuse rather than silently resize: a size mismatch usually means mispaired files."""
    other_size = (other.shape[1], other.shape[0])
    if other_size != tuple(image_size):
        raise UserError(f"{other_path} is {other_size[0]}x{other_size[1]} but its image {image_path} is "
                        f"{image_size[0]}x{image_size[1]}; label, instance and image files must have the same size")


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
