"""The base of every `--dataset_mode`: a dataset class is one file, data/<mode>_dataset.py, and says
everything about its dataset (BaseDataset's docstring lists what); this module reads and checks the files.

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
the `*crop` and `fixed` modes (data/transforms.py resizes, crops and flips). The model turns instance
ids into an edge map itself, as SPADE does.

Label ids are the file's values after the dataset class's `map_label` (by default the values
themselves, and with --contain_dontcare_label the raw value 255 becomes the don't-care id label_nc;
each dataset module's docstring states its own rule). A value that is neither a class id nor the
don't-care id is refused with the file and value named.

Input checks: unreadable, truncated or empty files, image/label size mismatches,
colour (RGB) label maps and out-of-range label values all raise UserError naming
the file. Grayscale, palette and RGBA images are converted to RGB; palette ('P'),
'L' and 16-bit label maps are read as integer ids (never through their palette).
"""
import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from data.transforms import get_params, sample_generator, transform_image, transform_label
from util.errors import UserError


class BaseDataset(Dataset):
    """Paired label/image(/instance) files -> sample dicts (see the module docstring).

    Built from explicit arguments (data.create_dataset is what reads the options):
      root             the dataset's folder (--dataroot)
      phase            train, val or test: which split
      label_nc, contain_dontcare_label   the label ids (check_label_values, map_label)
      instances        read instance maps (not --no_instance)
      preprocess       a Preprocess; None for a dataset that is only listed (its files), not read
      max_size         at most this many samples (--max_dataset_size)
      pairing_check    label, image and instance file names must match (not --no_pairing_check)
      seed             of each sample's crop and flip (--seed)

    A subclass, class XDataset in data/X_dataset.py (`--dataset_mode X`), defines `get_paths()` ->
    (label_paths, image_paths, instance_paths), each sorted, instance_paths empty without instances,
    and `layout()` (one line for errors); optionally `pair_key(path)` (the part of a file name that
    must match across the three lists), `map_label`, `modify_commandline_options` (its option
    defaults, SPADE's way), `location` and `recognise`. The rest of the code asks the class, never a
    table of modes, for what the class attributes below say about its dataset.
    """
    LABEL_NC = None  # the classes and ...
    CONTAIN_DONTCARE_LABEL = False  # ... a don't-care id: SPADE's defaults of --label_nc and --contain_dontcare_label
    # The fix an out-of-range label value's error suggests; a dataset with fixed ids says where they come from.
    LABEL_FIX = "check --label_nc / --contain_dontcare_label"
    RAW_VALUES = 'class ids'  # what its label files hold, in words (generate.py's and serve.py's errors)
    CLASSES = None  # names of the ids 0..LABEL_NC-1 (None: unnamed) ...
    COLORS = None  # ... and their (r, g, b) in the dataset's own pictures (None: test.py's label colours)
    PALETTE_TITLE = None  # what those colours are, e.g. "CamVid's colours (SegNet's)"
    # A model of another mode (custom data, an old checkpoint) with LABEL_NC classes takes these names and
    # colours: SPADE's label counts (35, 150, 182) say which dataset a label map is from.
    KNOWN_BY_LABEL_COUNT = False
    SEGMENTER = 'small'  # evaluate.py's default --segmenter (evaluation/segmenters/) ...
    MIOU_RULE = 'union'  # ... and --miou_rule (evaluation/segmentation.py)
    # the model card's licence (an SPDX id, or 'other' with a name), Hugging Face's dataset tag, and what
    # the dataset's terms mean for weights trained on it
    LICENCE = ('other', 'unknown', None, (
        "the trainer's own data (--dataset_mode custom): its licence is not recorded; the weights carry "
        'it, so state it here before sharing them.'))
    SCORED_IDS = None  # {label id: scored id} where mIoU scores other ids than the labels' (else ids 0..label_nc-1)

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        return parser

    @classmethod
    def palette_entries(cls, label_nc):
        """[(model id, name, (r, g, b))] of the ids below label_nc in the dataset's colours ([] without
        COLORS); data/palettes.py adds the don't-care entry."""
        return [(i, name, colour) for i, (name, colour) in enumerate(zip(cls.CLASSES or (), cls.COLORS or ()))
                if i < label_nc]

    @classmethod
    def location(cls, values):
        """Where the files are, as the constructor's arguments, from option values (a dict such as
        vars(opt) or opt.json's)."""
        return {'root': values.get('dataroot')}

    @classmethod
    def recognise(cls, label_dir, values):
        """(dataroot, one line saying what it is) when label_dir, holding these label values, is a label
        folder of this dataset's layout, else None: how data.check_labels names the mode to train with."""
        return None

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
