"""Residual blocks: G_I's adaptive ResBlk (MFADE for ULBPGAN, SPADE for the baseline) and pix2pixHD's."""
import torch.nn as nn
import torch.nn.functional as F

from .normalization import resize_conditions
from .spectral import spectral_norm


class AdaptiveResnetBlock(nn.Module):
    """SPADE's ResBlk with any adaptive norm: (norm → LeakyReLU(0.2) → conv) twice, plus a learned
    shortcut (norm → 1×1 conv) when channels change. make_norm(channels) builds the norm (MFADE for
    ULBPGAN, SPADE for the baseline), called as norm(x, S, L); S and L are resized to x once per block."""

    def __init__(self, fin, fout, make_norm, spectral=True):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        sn = spectral_norm if spectral else (lambda m: m)
        # (creation order = parameter order, which saved optimizer states rely on)
        self.conv_0 = sn(nn.Conv2d(fin, fmiddle, 3, padding=1))
        self.conv_1 = sn(nn.Conv2d(fmiddle, fout, 3, padding=1))
        if self.learned_shortcut:
            self.conv_s = sn(nn.Conv2d(fin, fout, 1, bias=False))
        self.norm_0 = make_norm(fin)
        self.norm_1 = make_norm(fmiddle)
        if self.learned_shortcut:
            self.norm_s = make_norm(fin)

    def forward(self, x, segmap, lbp=None):
        segmap, lbp = resize_conditions(x, segmap, lbp)
        x_s = self.conv_s(self.norm_s(x, segmap, lbp)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, segmap, lbp), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, segmap, lbp), 0.2))
        return x_s + dx


class ResnetBlock(nn.Module):
    """pix2pixHD's residual block: reflect-pad, conv, norm, act, twice."""

    def __init__(self, dim, norm_layer, activation, kernel_size=3):
        super().__init__()
        pw = (kernel_size - 1) // 2
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(pw), norm_layer(nn.Conv2d(dim, dim, kernel_size)), activation,
            nn.ReflectionPad2d(pw), norm_layer(nn.Conv2d(dim, dim, kernel_size)))

    def forward(self, x):
        return x + self.conv_block(x)
