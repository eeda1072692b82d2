"""The global image generator G_I, SPADE's generator with any adaptive norm (MFADE for ULBPGAN, SPADE for
the baseline), and pix2pixHD's."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import AdaptiveResnetBlock, ResnetBlock
from .label_conv import LabelConv2d
from .normalization import plain_norm_layer

UPSAMPLINGS = {'normal': 5, 'more': 6, 'most': 7}


def latent_size(height, width, num_upsampling_layers):
    """(h, w) of G_I's first feature map; None when the image size does not divide evenly."""
    n = UPSAMPLINGS[num_upsampling_layers]
    if height % 2 ** n or width % 2 ** n:
        return None
    return height // 2 ** n, width // 2 ** n


class SPADEGenerator(nn.Module):
    """G_I after SPADE's generator: head, two middle blocks, four up blocks (+1 for 'most'), conv + tanh.

    make_norm(channels) builds each block's adaptive norm (normalization.adaptive_norm): MFADE(S, L)
    for ULBPGAN, SPADE(S) for the SPADE baseline. The first feature map comes from the label map
    downsampled to `latent` (h, w), or from a style vector z (z_dim > 0, --use_vae).
    """

    def __init__(self, semantic_nc, ngf, latent, make_norm, num_upsampling_layers, spectral=True, z_dim=0):
        super().__init__()
        nf = ngf
        self.nf, self.latent, self.z_dim = nf, latent, z_dim
        self.extra_up = num_upsampling_layers in ('more', 'most')  # between the middle blocks
        if z_dim:
            self.fc = nn.Linear(z_dim, 16 * nf * latent[0] * latent[1])
        else:
            self.fc = LabelConv2d(semantic_nc, 16 * nf, 3, padding=1)
        block = lambda fin, fout: AdaptiveResnetBlock(fin, fout, make_norm, spectral)
        self.head_0 = block(16 * nf, 16 * nf)
        self.G_middle_0 = block(16 * nf, 16 * nf)
        self.G_middle_1 = block(16 * nf, 16 * nf)
        self.up_0 = block(16 * nf, 8 * nf)
        self.up_1 = block(8 * nf, 4 * nf)
        self.up_2 = block(4 * nf, 2 * nf)
        self.up_3 = block(2 * nf, nf)
        ups = [self.up_0, self.up_1, self.up_2, self.up_3]
        final_nc = nf
        if num_upsampling_layers == 'most':
            self.up_4 = block(nf, nf // 2)
            ups.append(self.up_4)
            final_nc = nf // 2
        self.ups = ups  # a plain list: the blocks are registered once, under their SPADE names
        self.conv_img = nn.Conv2d(final_nc, 3, 3, padding=1)

    def forward(self, seg, lbp=None, z=None):
        """seg: the label map as `Semantics` (semantics.py); lbp: N×1×H×W or None; z: N×z_dim or None."""
        if self.z_dim:
            if z is None:
                z = torch.randn(len(seg), self.z_dim, device=seg.device)
            x = self.fc(z).view(-1, 16 * self.nf, *self.latent)
        else:
            x = self.fc(seg.resize(self.latent))
        x = self.head_0(x, seg, lbp)
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = self.G_middle_0(x, seg, lbp)
        if self.extra_up:
            x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = self.G_middle_1(x, seg, lbp)
        for up in self.ups:
            x = up(F.interpolate(x, scale_factor=2, mode='nearest'), seg, lbp)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


class Pix2PixHDGenerator(nn.Module):
    """pix2pixHD's global generator: downsample, residual blocks, upsample (no LBP input)."""

    def __init__(self, semantic_nc, ngf, norm_G, n_downsample=4, n_blocks=9):
        super().__init__()
        norm = plain_norm_layer(norm_G)
        act = nn.ReLU(False)
        layers = [nn.ReflectionPad2d(3), norm(nn.Conv2d(semantic_nc, ngf, 7)), act]
        mult = 1
        for _ in range(n_downsample):
            layers += [norm(nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1)), act]
            mult *= 2
        layers += [ResnetBlock(ngf * mult, norm, act) for _ in range(n_blocks)]
        for _ in range(n_downsample):
            layers += [norm(nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2,
                                               padding=1, output_padding=1)), act]
            mult //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, seg, lbp=None, z=None):
        return self.model(seg.one_hot())
