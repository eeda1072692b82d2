"""G_L: label map S -> LBP map L (1 channel, tanh), a pix2pix-style U-Net.

Down: stride-2 4×4 conv, instance norm, LeakyReLU(0.2). Up: nearest ×2, 3×3 conv, instance
norm, ReLU, after concatenating the encoder feature of the same size. The depth follows the
input size (halve while both sides stay >= 4 pixels, at most 8 times), so 256×512, 256×256
and tiny test sizes all work; the width doubles per level up to 8·ngf_lbp.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .label_conv import LabelConv2d


def unet_depth(height, width, max_depth=8):
    depth = 0
    while depth < max_depth and min(height, width) // 2 ** (depth + 1) >= 4:
        depth += 1
    return depth


class LBPGenerator(nn.Module):
    def __init__(self, semantic_nc, height, width, ngf):
        super().__init__()
        depth = unet_depth(height, width)
        widths = [min(ngf * 2 ** i, ngf * 8) for i in range(depth + 1)]
        self.stem = nn.Sequential(LabelConv2d(semantic_nc, widths[0], 3, padding=1), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i], widths[i + 1], 4, stride=2, padding=1),
                          nn.InstanceNorm2d(widths[i + 1]), nn.LeakyReLU(0.2))
            for i in range(depth))
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i + 1] + widths[i], widths[i], 3, padding=1),
                          nn.InstanceNorm2d(widths[i]), nn.ReLU())
            for i in reversed(range(depth)))
        self.out = nn.Conv2d(widths[0], 1, 3, padding=1)

    def forward(self, seg):
        """seg: the label map as `Semantics` (semantics.py) -> N×1×H×W LBP map in [-1, 1]."""
        skips = [self.stem(seg)]
        for down in self.down:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.up:
            skip = skips.pop()
            x = up(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode='nearest'), skip], 1))
        return torch.tanh(self.out(x))
