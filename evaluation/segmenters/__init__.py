"""Segmenters for the mIoU / accuracy protocol, behind one interface.

`build_segmenter(name, num_classes, weights_path)` returns a `Segmenter` whose
`predict(rgb, size=None)` takes the 8-bit RGB images (N×3×H×W, values 0..255, as test.py saved
them) and returns N×H×W class ids; each network's input is computed once from those 8-bit values:

| name      | data               | classes | input the network expects                                  |
| --------- | ------------------ | ------- | ---------------------------------------------------------- |
| drn       | Cityscapes         | 19      | x/255, mean 0.2901 0.3281 0.2870, std 0.1830 0.1866 0.1845 |
| upernet   | ADE20K             | 150     | x/255, ImageNet mean / std                                 |
| deeplabv2 | COCO-Stuff         | 182     | BGR x minus 104.008 116.669 122.675                        |
| small     | any (trained here) | any     | x/127.5 - 1, as the data loader gives training images      |

A dataset class's SEGMENTER names the one evaluate.py uses by default (small unless it says otherwise).
Single scale for DRN and UperNet, the published multi-scale max for DeepLab v2; logits come back
at the size segmented: the image's own, or `size` (--seg_size original: the image is first
upsampled bilinearly to the label map's size).

weights_path: a file (for upernet a folder holding encoder_epoch_50.pth and decoder_epoch_50.pth,
or one holding a baseline-resnet101-upernet/ or ade20k-resnet101-upernet/ folder with them);
'' looks in the torch hub cache (and downloads the published file where a stable URL exists);
None keeps random weights (tests, training).
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import data
from evaluation.segmenters.deeplabv2 import DeepLabV2MSC
from evaluation.segmenters.drn import DRNSeg
from evaluation.segmenters.small import SmallUNet
from evaluation.segmenters.upernet import UperNet
from util.errors import UserError
from util.weights import MissingWeights, check_state_dict, hub_checkpoint_path, load_published_weights

NAMES = ('drn', 'upernet', 'deeplabv2', 'small')
DEFAULT_FOR_DATASET = data.ByMode('SEGMENTER')  # mode -> its segmenter
PUBLISHED_CLASSES = {'drn': 19, 'upernet': 150, 'deeplabv2': 182}
NETWORKS = {'drn': DRNSeg, 'upernet': UperNet, 'deeplabv2': DeepLabV2MSC}

# fyu/drn's README links its Cityscapes models from a page, not from a file URL, so nothing is
# downloaded: the missing-file error says where the file is published.
DRN_FILE = 'drn-d-105_ms_cityscapes.pth'
DRN_PAGE = 'http://go.yf.io/drn-cityscapes-models (linked from https://github.com/fyu/drn)'
# SPADE's authors point to the older folder name; CSAIL now publishes the same model under the newer.
UPERNET_FOLDERS = ('ade20k-resnet101-upernet', 'baseline-resnet101-upernet')
UPERNET_URL = f'http://sceneparsing.csail.mit.edu/model/pytorch/{UPERNET_FOLDERS[0]}/'
UPERNET_PARTS = ('encoder_epoch_50.pth', 'decoder_epoch_50.pth')
DEEPLAB_FILE = 'deeplabv2_resnet101_msc-cocostuff164k-100000.pth'
DEEPLAB_URL = 'https://github.com/kazuto1011/deeplab-pytorch/releases/download/v1.0/' + DEEPLAB_FILE
OFF_HINT = 'or pass --no_seg to skip mIoU/accuracy'


class Segmenter(nn.Module):
    """A segmentation network, the input normalisation it was trained with and its weight files."""

    def __init__(self, net, num_classes, divisor, mean, std, bgr=False, weight_files=()):
        super().__init__()
        self.net = net
        self.num_classes = num_classes
        self.divisor = divisor
        self.bgr = bgr
        self.weight_files = tuple(weight_files)  # for the protocol line's SHA-256 prefixes
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def normalise(self, rgb):
        """N×3×H×W RGB of 0..255 values -> the network's input, (x / divisor - mean) / std."""
        x = rgb.float()
        if self.bgr:
            x = x.flip(1)
        return (x / self.divisor - self.mean) / self.std

    def forward(self, rgb, size=None):
        x = rgb.float()
        if size is not None and tuple(size) != tuple(x.shape[2:]):
            x = F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)
        logits = self.net(self.normalise(x))
        if logits.shape[2:] != x.shape[2:]:  # DRN's ×8 upsampling overshoots sizes not divisible by 8
            logits = F.interpolate(logits, size=x.shape[2:], mode='bilinear', align_corners=False)
        return logits

    @torch.no_grad()
    def features(self, rgb):
        """N×3×H×W 8-bit RGB -> N×D float64 features, for networks that define them (the small U-Net)."""
        return self.net.features(self.normalise(rgb)).double()

    @torch.no_grad()
    def predict(self, rgb, size=None):
        """N×3×H×W 8-bit RGB (uint8 or float 0..255) -> N×H×W int64 class ids, at `size` if given."""
        return self.forward(rgb, size).argmax(1)


# (divisor, mean, std, BGR) of each network's input.
_INPUTS = {
    'drn': (255.0, (0.290101, 0.328081, 0.286964), (0.182954, 0.186566, 0.184475), False),
    'upernet': (255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), False),
    'deeplabv2': (1.0, (104.008, 116.669, 122.675), (1.0, 1.0, 1.0), True),
    'small': (127.5, (1.0, 1.0, 1.0), (1.0, 1.0, 1.0), False),
}


def build_segmenter(name, num_classes=None, weights_path=''):
    """The named segmenter in eval mode, with its weights (see the module docstring)."""
    if name not in NAMES:
        raise UserError(f"--segmenter {name}: unknown; choose one of {', '.join(NAMES)}")
    files = ()
    if name == 'small':
        net, num_classes = _small(num_classes, weights_path)
        files = () if weights_path is None else (weights_path,)
    else:
        num_classes = _published_classes(name, num_classes)
        net = NETWORKS[name](num_classes)
        if weights_path is not None:
            files = _load_published(name, net, weights_path)
    return Segmenter(net, num_classes, *_INPUTS[name], weight_files=files).eval()


def _published_classes(name, num_classes):
    fixed = PUBLISHED_CLASSES[name]
    if num_classes not in (None, fixed):
        raise UserError(f"--segmenter {name} predicts {fixed} classes but the data has {num_classes}; "
                        f"use the segmenter of the dataset or --segmenter small")
    return fixed


def _load_published(name, net, path):
    """Load the weights into net; returns the files read."""
    if name == 'upernet':
        folder = _upernet_folder(path)
        return tuple(_load_upernet_part(part, module, folder)
                     for part, module in zip(UPERNET_PARTS, (net.encoder, net.decoder)))
    if name == 'drn':
        state = load_published_weights(path, DRN_FILE, DRN_PAGE, 'Cityscapes DRN-D-105 segmenter',
                                       '--seg_weights', OFF_HINT, download=False)
        file = path or hub_checkpoint_path(DRN_FILE)
    else:
        state = load_published_weights(path, DEEPLAB_FILE, DEEPLAB_URL, 'COCO-Stuff DeepLab v2 segmenter',
                                       '--seg_weights', OFF_HINT)
        file = path or hub_checkpoint_path(DEEPLAB_FILE)
    check_state_dict(net, state, file)
    return (file,)


def _upernet_folder(path):
    """The folder holding the two UperNet files: `path` itself, or its sub-folder under either
    published name; '' stays '' (the hub cache)."""
    for name in UPERNET_FOLDERS:
        if path and os.path.isfile(os.path.join(path, name, UPERNET_PARTS[0])):
            return os.path.join(path, name)
    return path


def _load_upernet_part(part, module, folder):
    file = os.path.join(folder, part) if folder else _cached_upernet_part(part)
    state = load_published_weights(file if folder else '', os.path.basename(file), UPERNET_URL + part,
                                   f'ADE20K UperNet segmenter ({part[:7]} of {" or ".join(UPERNET_FOLDERS)})',
                                   '--seg_weights (a folder with both files)', OFF_HINT)
    check_state_dict(module, state, file)
    return file


def _cached_upernet_part(part):
    """The hub cache names both parts of every CSAIL model after their folder; either folder name will do."""
    names = [f'{folder}_{part}' for folder in UPERNET_FOLDERS]
    found = [n for n in names if os.path.isfile(hub_checkpoint_path(n))]
    return hub_checkpoint_path((found or names)[0])


def _small(num_classes, path):
    if path is None:
        if num_classes is None:
            raise ValueError("a small segmenter with random weights needs num_classes")
        return SmallUNet(num_classes), num_classes
    if not path or not os.path.isfile(path):
        raise MissingWeights(f"--seg_weights {path or '(not given)'}: no small-segmenter checkpoint; train one "
                        f"with `python scripts/train_segmenter.py --dataroot DIR --dataset_mode MODE "
                        f"--out checkpoints/segmenter_MODE.pth`; {OFF_HINT}")
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # a truncated or foreign file: the fix is the same
        raise UserError(f"{path}: cannot be read ({type(e).__name__}); train the segmenter again") from None
    if not isinstance(ckpt, dict) or 'num_classes' not in ckpt or 'state_dict' not in ckpt:
        raise UserError(f"{path}: not a checkpoint written by scripts/train_segmenter.py; train one with it")
    if num_classes not in (None, ckpt['num_classes']):
        raise UserError(f"{path}: segmenter trained for {ckpt['num_classes']} classes "
                        f"(--dataset_mode {ckpt.get('dataset_mode')}), the data has {num_classes}")
    net = SmallUNet(ckpt['num_classes'])
    check_state_dict(net, ckpt['state_dict'], path)
    return net, ckpt['num_classes']


def small_checkpoint(net, num_classes, dataset_mode):
    """What scripts/train_segmenter.py saves and _small() reads back."""
    return {'state_dict': net.state_dict(), 'num_classes': num_classes, 'dataset_mode': dataset_mode}
