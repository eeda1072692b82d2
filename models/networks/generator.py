"""The global image generator G_I (SPADE topology; MFADE or SPADE norms) and pix2pixHD's."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from util.errors import UserError
from .architecture import MFADEResnetBlock, ResnetBlock
from .normalization import parse_adaptive, plain_norm_layer

UPSAMPLINGS = {'normal': 5, 'more': 6, 'most': 7}


class ULBPGenerator(nn.Module):
    """G_I: head, two middle blocks, four up blocks (+1 for 'most'), conv + tanh.

    With --netG spade it is exactly SPADE's generator (no LBP input). With --netG ulbp every
    norm sees the LBP map L from G_L: MFADE(S, L), or SPADE(concat(S, L)) when --norm_G says
    spade (the '+ LBP generator' ablation).
    """

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        nf = opt.ngf
        self.sh, self.sw = self.compute_latent_size(opt)
        use_lbp = opt.netG == 'ulbp'
        if opt.use_vae:
            self.fc = nn.Linear(opt.z_dim, 16 * nf * self.sh * self.sw)
        else:
            self.fc = nn.Conv2d(opt.semantic_nc, 16 * nf, 3, padding=1)
        block = lambda fin, fout: MFADEResnetBlock(fin, fout, opt.norm_G, opt.semantic_nc, use_lbp, opt.nhidden)
        self.head_0 = block(16 * nf, 16 * nf)
        self.G_middle_0 = block(16 * nf, 16 * nf)
        self.G_middle_1 = block(16 * nf, 16 * nf)
        self.up_0 = block(16 * nf, 8 * nf)
        self.up_1 = block(8 * nf, 4 * nf)
        self.up_2 = block(4 * nf, 2 * nf)
        self.up_3 = block(2 * nf, nf)
        final_nc = nf
        if opt.num_upsampling_layers == 'most':
            self.up_4 = block(nf, nf // 2)
            final_nc = nf // 2
        self.conv_img = nn.Conv2d(final_nc, 3, 3, padding=1)

    @staticmethod
    def compute_latent_size(opt):
        n = UPSAMPLINGS[opt.num_upsampling_layers]
        sw = opt.crop_size // 2 ** n
        sh = round(sw / opt.aspect_ratio)
        if sw < 1 or sh < 1 or opt.crop_size % 2 ** n or sh * 2 ** n != round(opt.crop_size / opt.aspect_ratio):
            raise UserError(f"--crop_size {opt.crop_size} with --aspect_ratio {opt.aspect_ratio}: width and "
                            f"height must be multiples of {2 ** n} for --num_upsampling_layers "
                            f"{opt.num_upsampling_layers}")
        return sh, sw

    def forward(self, seg, lbp=None, z=None):
        if self.opt.use_vae:
            if z is None:
                z = torch.randn(seg.size(0), self.opt.z_dim, device=seg.device, dtype=seg.dtype)
            x = self.fc(z).view(-1, 16 * self.opt.ngf, self.sh, self.sw)
        else:
            x = self.fc(F.interpolate(seg, size=(self.sh, self.sw), mode='nearest'))
        x = self.head_0(x, seg, lbp)
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = self.G_middle_0(x, seg, lbp)
        if self.opt.num_upsampling_layers in ('more', 'most'):
            x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = self.G_middle_1(x, seg, lbp)
        ups = [self.up_0, self.up_1, self.up_2, self.up_3]
        if self.opt.num_upsampling_layers == 'most':
            ups.append(self.up_4)
        for up in ups:
            x = up(F.interpolate(x, scale_factor=2, mode='nearest'), seg, lbp)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


class Pix2PixHDGenerator(nn.Module):
    """pix2pixHD's global generator: downsample, residual blocks, upsample (no LBP input)."""

    def __init__(self, opt, n_downsample=4, n_blocks=9):
        super().__init__()
        norm = plain_norm_layer(opt.norm_G)  # 'instance' by default for pix2pixhd (see Pix2PixModel)
        act = nn.ReLU(False)
        layers = [nn.ReflectionPad2d(3), norm(nn.Conv2d(opt.semantic_nc, opt.ngf, 7)), act]
        mult = 1
        for _ in range(n_downsample):
            layers += [norm(nn.Conv2d(opt.ngf * mult, opt.ngf * mult * 2, 3, stride=2, padding=1)), act]
            mult *= 2
        layers += [ResnetBlock(opt.ngf * mult, norm, act) for _ in range(n_blocks)]
        for _ in range(n_downsample):
            layers += [norm(nn.ConvTranspose2d(opt.ngf * mult, opt.ngf * mult // 2, 3, stride=2,
                                               padding=1, output_padding=1)), act]
            mult //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(opt.ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, seg, lbp=None, z=None):
        return self.model(seg)


def check_norm_for_netG(opt):
    if opt.netG == 'pix2pixhd':
        return
    kind, _, _ = parse_adaptive(opt.norm_G)
    if kind == 'mfade' and opt.netG != 'ulbp':
        raise UserError(f"--norm_G {opt.norm_G} needs the LBP map of --netG ulbp; use spectralspadesyncbatch3x3 "
                        f"with --netG {opt.netG}")
