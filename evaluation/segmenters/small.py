"""A small U-Net segmenter (4 levels, widths 32-64-128-256) for data without a published one.

Trained on the real images of a dataset by scripts/train_segmenter.py, it makes the mIoU protocol
usable for the demo and custom data: the synthesized images are scored by how well a segmenter
that only ever saw real images recovers their label maps. Input: RGB in [-1, 1], any size (padded
to a multiple of 8 inside). Output: logits at the input size.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def _double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class SmallUNet(nn.Module):
    def __init__(self, num_classes, width=32, levels=4):
        super().__init__()
        widths = [width * 2 ** i for i in range(levels)]
        self.down = nn.ModuleList(_double_conv(cin, cout) for cin, cout in zip([3] + widths[:-1], widths))
        self.up = nn.ModuleList(_double_conv(widths[i] + widths[i + 1], widths[i])
                                for i in reversed(range(levels - 1)))
        self.head = nn.Conv2d(width, num_classes, 1)
        self.multiple = 2 ** (levels - 1)

    def encode(self, x):
        """-> the encoder's feature maps, finest first (x padded to a multiple of 8)."""
        h, w = x.shape[2:]
        x = F.pad(x, (0, -w % self.multiple, 0, -h % self.multiple), mode='replicate')
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        return skips

    def features(self, x):
        """The bottleneck, averaged over space: one 8·width vector per image (FID/KID features of
        the demo experiment: a network that has only seen the real images of its dataset)."""
        return self.encode(x)[-1].mean((2, 3))

    def forward(self, x):
        h, w = x.shape[2:]
        skips = self.encode(x)
        x = skips[-1]
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = block(torch.cat([skip, F.interpolate(x, size=skip.shape[2:], mode='bilinear',
                                                     align_corners=False)], 1))
        return self.head(x)[:, :, :h, :w]
