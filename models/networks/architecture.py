"""Residual blocks: the MFADE ResBlk of G_I (also SPADE's, by its norm) and pix2pixHD's."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from .normalization import MFADE, SPADE, parse_adaptive, resize_conditions


class MFADEResnetBlock(nn.Module):
    """(norm → LeakyReLU(0.2) → conv) twice, plus a learned shortcut when channels change.

    norm is MFADE(S, L) for 'mfade' in --norm_G. For 'spade' it is SPADE on S, or on
    concat(S, L) when an LBP map is given (the '+ LBP generator' ablation).
    """

    def __init__(self, fin, fout, norm_G, label_nc, use_lbp, nhidden=128):
        super().__init__()
        kind, param_free, ks = parse_adaptive(norm_G)
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = nn.Conv2d(fin, fmiddle, 3, padding=1)
        self.conv_1 = nn.Conv2d(fmiddle, fout, 3, padding=1)
        if self.learned_shortcut:
            self.conv_s = nn.Conv2d(fin, fout, 1, bias=False)
        if 'spectral' in norm_G:
            self.conv_0 = spectral_norm(self.conv_0)
            self.conv_1 = spectral_norm(self.conv_1)
            if self.learned_shortcut:
                self.conv_s = spectral_norm(self.conv_s)
        self.mfade = kind == 'mfade'
        self.use_lbp = use_lbp
        if self.mfade:
            make = lambda c: MFADE(c, label_nc, param_free, ks, nhidden)
        else:
            make = lambda c: SPADE(c, label_nc + int(use_lbp), param_free, ks, nhidden)
        self.norm_0 = make(fin)
        self.norm_1 = make(fmiddle)
        if self.learned_shortcut:
            self.norm_s = make(fin)

    def forward(self, x, segmap, lbp=None):
        segmap, lbp = resize_conditions(x, segmap, lbp if self.use_lbp else None)
        if self.mfade:
            norm = lambda layer, h: layer(h, segmap, lbp)
        else:
            cond = segmap if lbp is None else torch.cat([segmap, lbp], 1)
            norm = lambda layer, h: layer(h, cond)
        x_s = self.conv_s(norm(self.norm_s, x)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(norm(self.norm_0, x), 0.2))
        dx = self.conv_1(F.leaky_relu(norm(self.norm_1, dx), 0.2))
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
