"""Normalisation layers: plain (for D / E / pix2pixHD), and the two adaptive ones of G_I.

SPADE(x, S)      = norm(x) · (1 + γ(S)) + β(S)
MFADE(x, S, L)   = norm(x) · (1 + γ_s(S) + γ_o(L)) + (β_s(S) + β_o(L))   (docs/METHOD.md)

`norm(x)` is parameter-free (instance, batch or sync-batch). With the L branch at zero,
MFADE is exactly SPADE: MFADE owns a SPADE for the label branch and adds the L branch.
Every adaptive norm is called the same way, norm(x, segmap, lbp); `adaptive_norm` picks one.
"""
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

from util.errors import UserError
from .label_conv import LabelConv2d
from .spectral import spectral_norm

NHIDDEN = 128  # default hidden width of the modulation branches, as SPADE (--nhidden)


def param_free_norm(kind, channels):
    if kind == 'instance':
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == 'batch':
        return nn.BatchNorm2d(channels, affine=False)
    if kind == 'syncbatch':
        # SyncBatchNorm is plain batch norm outside a process group; DDP makes it sync.
        return nn.SyncBatchNorm(channels, affine=False)
    raise UserError(f"normalisation '{kind}': choose instance, batch or syncbatch")


def parse_adaptive(norm_G):
    """'spectralmfadesyncbatch3x3' -> ('mfade', 'syncbatch', 3); also 'spade...'."""
    m = re.fullmatch(r'(?:spectral)?(spade|mfade)(instance|batch|syncbatch)(\d)x\d', norm_G)
    if not m:
        raise UserError(f"--norm_G {norm_G}: expected e.g. spectralmfadesyncbatch3x3 or spadeinstance3x3")
    return m.group(1), m.group(2), int(m.group(3))


def plain_norm_layer(norm_type):
    """For D, E and pix2pixHD: returns f(conv) -> conv (+ spectral norm) followed by a norm."""
    def add_norm(layer):
        kind = norm_type
        if kind.startswith('spectral'):
            layer = spectral_norm(layer)
            kind = kind[len('spectral'):]
        if kind in ('', 'none'):
            return layer
        out = layer.out_channels
        if kind == 'instance':
            return nn.Sequential(layer, nn.InstanceNorm2d(out, affine=False))
        if kind == 'batch':
            return nn.Sequential(layer, nn.BatchNorm2d(out, affine=True))
        if kind == 'syncbatch':
            return nn.Sequential(layer, nn.SyncBatchNorm(out, affine=True))
        raise UserError(f"normalisation '{norm_type}': choose [spectral]instance, batch, syncbatch or none")
    return add_norm


class SPADE(nn.Module):
    """SPADE(x, S) = norm(x) · (1 + γ(S)) + β(S). Called as every adaptive norm: norm(x, segmap, lbp)."""

    def __init__(self, norm_nc, cond_nc, param_free='syncbatch', ks=3, nhidden=NHIDDEN):
        super().__init__()
        self.param_free_norm = param_free_norm(param_free, norm_nc)
        self.branch = ModulationBranch(cond_nc, norm_nc, ks, nhidden, labels=True)

    def forward(self, x, segmap, lbp=None):
        gamma, beta = self.branch(segmap)
        return modulate(self.param_free_norm(x), gamma, beta)


class ConcatSPADE(SPADE):
    """The '+ LBP generator' ablation: SPADE conditioned on concat(S, L) (cond_nc counts L)."""

    def forward(self, x, segmap, lbp):
        gamma, beta = self.branch(segmap, lbp)
        return modulate(self.param_free_norm(x), gamma, beta)


class MFADE(SPADE):
    """MFADE(x, S, L) = norm(x) · (1 + γ_s(S) + γ_o(L)) + (β_s(S) + β_o(L)).

    SPADE's label branch plus an LBP branch of hidden width nhidden_lbp (0: γ_o and β_o are
    one conv each straight from L, as the paper's figure draws them).
    """

    def __init__(self, norm_nc, label_nc, param_free='syncbatch', ks=3, nhidden=NHIDDEN, nhidden_lbp=NHIDDEN):
        super().__init__(norm_nc, label_nc, param_free, ks, nhidden)
        self.lbp_branch = ModulationBranch(1, norm_nc, ks, nhidden_lbp)

    def forward(self, x, segmap, lbp):
        gamma_s, beta_s = self.branch(segmap)
        gamma_o, beta_o = self.lbp_branch(lbp)
        return modulate(self.param_free_norm(x), gamma_s.add_(gamma_o), beta_s.add_(beta_o))


def modulate(normed, gamma, beta):
    """normed · (1 + γ) + β with one new full-size tensor: γ and β are conv outputs that no
    backward reads, so they are updated in place (each new map costs page faults on the CPU)."""
    return torch.addcmul(beta, normed, gamma.add_(1))


class ModulationBranch(nn.Module):
    """a = ReLU(conv(cond)); γ = conv(a); β = conv(a) (nhidden 0: γ, β = conv(cond)).

    cond must already be at x's size. With labels=True cond is the label map as `Semantics`
    (ids, not the one-hot: the first conv is a lookup, see label_conv.py) or `DenseSemantics`
    (semantics.py), optionally followed
    by dense channels (L, for ConcatSPADE).
    """

    def __init__(self, cond_nc, norm_nc, ks, nhidden=NHIDDEN, labels=False):
        super().__init__()
        pw = ks // 2
        conv = LabelConv2d if labels else nn.Conv2d
        self.mlp_shared = nn.Sequential(conv(cond_nc, nhidden, ks, padding=pw), nn.ReLU()) if nhidden else None
        self.mlp_gamma = nn.Conv2d(nhidden or cond_nc, norm_nc, ks, padding=pw)
        self.mlp_beta = nn.Conv2d(nhidden or cond_nc, norm_nc, ks, padding=pw)

    def forward(self, cond, *dense):
        actv = cond if self.mlp_shared is None else self.mlp_shared[1](self.mlp_shared[0](cond, *dense))
        return self.mlp_gamma(actv), self.mlp_beta(actv)


def adaptive_norm(norm_G, label_nc, use_lbp, nhidden=NHIDDEN, nhidden_lbp=NHIDDEN):
    """--norm_G -> f(channels) -> the adaptive norm of G_I's blocks, each called as norm(x, S, L).

    'mfade...' gives MFADE(S, L); 'spade...' gives SPADE(S), or SPADE(concat(S, L)) when the
    model has an LBP map (use_lbp: the '+ LBP generator' ablation).
    """
    kind, param_free, ks = parse_adaptive(norm_G)
    if kind == 'mfade':
        return lambda c: MFADE(c, label_nc, param_free, ks, nhidden, nhidden_lbp)
    if use_lbp:
        return lambda c: ConcatSPADE(c, label_nc + 1, param_free, ks, nhidden)
    return lambda c: SPADE(c, label_nc, param_free, ks, nhidden)


def resize_conditions(x, segmap, lbp):
    """S (nearest) and L (bilinear) at x's spatial size, computed once per resolution."""
    size = x.shape[-2:]
    segmap = segmap.resize(size)  # Semantics: nearest, as ids
    if lbp is not None and lbp.shape[-2:] != size:
        lbp = F.interpolate(lbp, size=size, mode='bilinear', align_corners=False)
    return segmap, lbp
