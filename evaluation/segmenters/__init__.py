"""Segmenters for the mIoU / accuracy protocol, behind one interface.

`build_segmenter(name, num_classes, weights_path)` returns a `Segmenter` whose
`predict(images)` takes RGB in [-1, 1] (what the generator writes) and returns N×H×W class ids;
each network's own input convention is applied inside:

| name      | data        | classes | input the network expects                          |
| --------- | ----------- | ------- | -------------------------------------------------- |
| drn       | Cityscapes  | 19      | RGB [0, 1], mean 0.2901 0.3281 0.2870, std 0.1830 0.1866 0.1845 |
| upernet   | ADE20K      | 150     | RGB [0, 1], ImageNet mean / std                     |
| deeplabv2 | COCO-Stuff  | 182     | BGR 0..255 minus 104.008 116.669 122.675            |
| small     | demo/custom | any     | RGB [-1, 1] (trained by scripts/train_segmenter.py) |

Images are segmented at the resolution they were synthesized at (single scale for DRN and UperNet,
the published multi-scale max for DeepLab v2), as SPADE did; logits are upsampled to that size.

weights_path: a file (for upernet a folder holding encoder_epoch_50.pth and decoder_epoch_50.pth);
'' looks in the torch hub cache and then downloads the published file; None keeps random weights
(tests, training).
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from evaluation.segmenters.deeplabv2 import DeepLabV2MSC
from evaluation.segmenters.drn import DRNSeg
from evaluation.segmenters.small import SmallUNet
from evaluation.segmenters.upernet import UperNet
from util.errors import UserError
from util.weights import check_state_dict, load_published_weights

NAMES = ('drn', 'upernet', 'deeplabv2', 'small')
DEFAULT_FOR_DATASET = {'cityscapes': 'drn', 'ade20k': 'upernet', 'coco': 'deeplabv2',
                       'custom': 'small', 'demo': 'small'}
PUBLISHED_CLASSES = {'drn': 19, 'upernet': 150, 'deeplabv2': 182}

# fyu/drn links its Cityscapes models from http://go.yf.io/drn-cityscapes-models; the file sits next
# to the ImageNet DRNs on dl.yf.io.
DRN_FILE = 'drn-d-105_ms_cityscapes.pth'
DRN_URL = 'http://dl.yf.io/drn/' + DRN_FILE
UPERNET_URL = 'http://sceneparsing.csail.mit.edu/model/pytorch/ade20k-resnet101-upernet/'
UPERNET_PARTS = ('encoder_epoch_50.pth', 'decoder_epoch_50.pth')
DEEPLAB_FILE = 'deeplabv2_resnet101_msc-cocostuff164k-100000.pth'
DEEPLAB_URL = 'https://github.com/kazuto1011/deeplab-pytorch/releases/download/v1.0/' + DEEPLAB_FILE
OFF_HINT = 'or pass --no_seg to skip mIoU/accuracy'


class Segmenter(nn.Module):
    """A segmentation network plus the input normalisation it was trained with."""

    def __init__(self, net, num_classes, mean, std, bgr255=False):
        super().__init__()
        self.net = net
        self.num_classes = num_classes
        self.bgr255 = bgr255
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def normalise(self, images):
        """RGB in [-1, 1] -> the network's input."""
        x = (images.float() + 1) / 2
        if self.bgr255:
            x = x.flip(1) * 255
        return (x - self.mean) / self.std

    def forward(self, images):
        logits = self.net(self.normalise(images))
        if logits.shape[2:] != images.shape[2:]:  # DRN's ×8 upsampling overshoots sizes not divisible by 8
            logits = F.interpolate(logits, size=images.shape[2:], mode='bilinear', align_corners=False)
        return logits

    @torch.no_grad()
    def predict(self, images):
        """N×3×H×W RGB in [-1, 1] -> N×H×W int64 class ids."""
        return self.forward(images).argmax(1)


def _wrap(name, net, num_classes):
    if name == 'drn':
        return Segmenter(net, num_classes, (0.290101, 0.328081, 0.286964), (0.182954, 0.186566, 0.184475))
    if name == 'upernet':
        return Segmenter(net, num_classes, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    if name == 'deeplabv2':
        return Segmenter(net, num_classes, (104.008, 116.669, 122.675), (1.0, 1.0, 1.0), bgr255=True)
    # small: trained on [-1, 1] directly, so undo the [0, 1] step of normalise().
    return Segmenter(net, num_classes, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def build_segmenter(name, num_classes=None, weights_path=''):
    """The named segmenter in eval mode, with its weights (see the module docstring)."""
    if name not in NAMES:
        raise UserError(f"--segmenter {name}: unknown; choose one of {', '.join(NAMES)}")
    if name == 'small':
        net, num_classes = _small(num_classes, weights_path)
    else:
        num_classes = _published_classes(name, num_classes)
        net = {'drn': DRNSeg, 'upernet': UperNet, 'deeplabv2': DeepLabV2MSC}[name](num_classes)
        if weights_path is not None:
            _load_published(name, net, weights_path)
    return _wrap(name, net, num_classes).eval()


def _published_classes(name, num_classes):
    fixed = PUBLISHED_CLASSES[name]
    if num_classes not in (None, fixed):
        raise UserError(f"--segmenter {name} predicts {fixed} classes but the data has {num_classes}; "
                        f"use the segmenter of the dataset or --segmenter small")
    return fixed


def _load_published(name, net, path):
    if name == 'drn':
        state = load_published_weights(path, DRN_FILE, DRN_URL, 'Cityscapes DRN-D-105 segmenter',
                                       '--seg_weights', OFF_HINT)
        check_state_dict(net, state, path or DRN_FILE)
    elif name == 'deeplabv2':
        state = load_published_weights(path, DEEPLAB_FILE, DEEPLAB_URL, 'COCO-Stuff DeepLab v2 segmenter',
                                       '--seg_weights', OFF_HINT)
        check_state_dict(net, state, path or DEEPLAB_FILE)
    else:
        for part, module in zip(UPERNET_PARTS, (net.encoder, net.decoder)):
            _load_upernet_part(part, module, path)


def _load_upernet_part(part, module, folder):
    # Both parts of every CSAIL model share these two names, so the hub cache gets a longer one.
    filename = part if folder else 'ade20k-resnet101-upernet_' + part
    file_path = os.path.join(folder, part) if folder else ''
    state = load_published_weights(file_path, filename, UPERNET_URL + part,
                                   f'ADE20K UperNet segmenter ({part[:7]})',
                                   '--seg_weights (a folder with both files)', OFF_HINT)
    check_state_dict(module, state, file_path or filename)


def _small(num_classes, path):
    if path is None:
        if num_classes is None:
            raise ValueError("a small segmenter with random weights needs num_classes")
        return SmallUNet(num_classes), num_classes
    if not path or not os.path.isfile(path):
        raise UserError(f"--seg_weights {path or '(not given)'}: no small-segmenter checkpoint; train one "
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
