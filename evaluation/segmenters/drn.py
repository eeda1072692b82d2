"""DRN-D-105 (Yu et al., fyu/drn) with its segmentation head: the Cityscapes mIoU network of SPADE.

Module names follow fyu/drn's DRNSeg, whose `base` is the DRN's children without the classifier
(base.0 .. base.8), so the published Cityscapes checkpoint loads unchanged:
  base.0  7×7 conv stem (16)          base.3..6  bottleneck stages (3, 4, 23, 3 blocks),
  base.1  3×3 conv (16)                          strides 2, 2 then dilations 2, 4 instead of strides
  base.2  3×3 conv, stride 2 (32)     base.7, base.8  3×3 convs (512), dilation 2 then 1
  seg     1×1 conv to the classes     up  fixed bilinear ×8 transposed convolution
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNELS = (16, 32, 64, 128, 256, 512, 512, 512)
BLOCKS = (3, 4, 23, 3)  # bottleneck blocks in base.3 .. base.6


def _conv_bn_relu(cin, cout, stride=1, dilation=1, kernel=3):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=dilation * (kernel // 2),
                                   dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Bottleneck(nn.Module):
    """1×1 -> 3×3 (strided or dilated) -> 1×1 (×4 channels), plus a projected or identity shortcut."""

    def __init__(self, cin, planes, stride=1, dilation=1):
        super().__init__()
        cout = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=dilation, dilation=dilation,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


def _stage(cin, planes, blocks, stride, dilation):
    layers = [Bottleneck(cin, planes, stride, dilation)]
    layers += [Bottleneck(planes * 4, planes, 1, dilation) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def _bilinear_kernel(size):
    """The fixed 2-D bilinear upsampling kernel fyu/drn puts into its transposed convolution."""
    f = math.ceil(size / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    ramp = 1 - torch.abs(torch.arange(size, dtype=torch.float64) / f - c)
    return (ramp[:, None] * ramp[None, :]).float()


class DRNSeg(nn.Module):
    """N×3×H×W normalised RGB -> N×classes×H×W logits (H, W multiples of 8 give exact sizes)."""

    def __init__(self, num_classes=19):
        super().__init__()
        c = CHANNELS
        self.base = nn.Sequential(
            _conv_bn_relu(3, c[0], kernel=7),
            _conv_bn_relu(c[0], c[0]),
            _conv_bn_relu(c[0], c[1], stride=2),
            _stage(c[1], c[2], BLOCKS[0], stride=2, dilation=1),
            _stage(c[2] * 4, c[3], BLOCKS[1], stride=2, dilation=1),
            _stage(c[3] * 4, c[4], BLOCKS[2], stride=1, dilation=2),
            _stage(c[4] * 4, c[5], BLOCKS[3], stride=1, dilation=4),
            _conv_bn_relu(c[5] * 4, c[6], dilation=2),
            _conv_bn_relu(c[6], c[7], dilation=1),
        )
        self.seg = nn.Conv2d(c[7], num_classes, 1)
        self.up = nn.ConvTranspose2d(num_classes, num_classes, 16, stride=8, padding=4,
                                     groups=num_classes, bias=False)
        with torch.no_grad():
            self.up.weight.copy_(_bilinear_kernel(16).expand_as(self.up.weight))
        self.up.weight.requires_grad_(False)

    def forward(self, x):
        return self.up(self.seg(self.base(x)))
