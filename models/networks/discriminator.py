"""SPADE's multiscale PatchGAN, used for both D_I (S ⊕ image) and D_L (S ⊕ LBP map).

Called as D(S, x): the input is concat(S, x), but S is given once for the k·N samples of x
(fakes and reals batched together, sample j·N + i paired with label map i), so the first
layer computes the label channels' part once (from the ids at full scale: label_conv.py;
from the pooled dense map at the smaller scales: semantics.py's DenseSemantics).
"""
import torch.nn as nn
import torch.nn.functional as F

from .label_conv import LabelConv2d
from .normalization import plain_norm_layer


class NLayerDiscriminator(nn.Module):
    """4×4 convs, stride 2 for all but the last two layers; returns every layer's output."""

    def __init__(self, input_nc, ndf, n_layers, norm_D):
        super().__init__()
        norm = plain_norm_layer(norm_D)
        layers = [nn.Sequential(LabelConv2d(input_nc, ndf, 4, stride=2, padding=2), nn.LeakyReLU(0.2, False))]
        nf = ndf
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            layers.append(nn.Sequential(norm(nn.Conv2d(nf_prev, nf, 4, stride=stride, padding=2)),
                                        nn.LeakyReLU(0.2, False)))
        layers.append(nn.Sequential(nn.Conv2d(nf, 1, 4, stride=1, padding=2)))
        self.layers = nn.ModuleList(layers)

    def forward(self, labels, x):
        """labels: `Semantics` or `DenseSemantics` of N samples; x: k·N samples of the other channels."""
        first = self.layers[0]
        x = first[1](first[0](labels, x))
        feats = [x]
        for layer in self.layers[1:]:
            x = layer(x)
            feats.append(x)
        return feats


class MultiscaleDiscriminator(nn.Module):
    """num_D PatchGANs on the input at 1, 1/2, 1/4 … scale. Returns a list (per scale) of feature lists."""

    def __init__(self, input_nc, ndf, n_layers, num_D, norm_D):
        super().__init__()
        self.scales = nn.ModuleList(NLayerDiscriminator(input_nc, ndf, n_layers, norm_D) for _ in range(num_D))

    def forward(self, labels, x):
        out = []
        for i, d in enumerate(self.scales):
            if i:  # the pooled label map is no longer one-hot: dense from here on (still N samples)
                labels, x = labels.pooled(_pool, x.dtype), _pool(x)
            out.append(d(labels, x))
        return out


def _pool(x):
    return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
