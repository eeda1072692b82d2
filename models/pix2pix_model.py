"""Pix2PixModel: ties G_L, G_I (MFADE), the encoder, D_I, D_L and the losses together.

Called as SPADE's model is: `model(data, mode)` with the data dict of data/base_dataset.py.
  'generator'     -> (G losses, {'synthesized_image', 'synthesized_lbp'})
  'discriminator' -> D losses
  'encode_only'   -> (z, mu, logvar)
  'inference'     -> {'synthesized_image', 'synthesized_lbp'} (random style with --use_vae)

Losses (METHOD.md). G: GAN, GAN_Feat, VGG, KLD, LBP_L1, LBP_GAN, LBP_GAN_Feat.
D: D_Fake, D_real (D_I), DL_Fake, DL_real (D_L). Each has a weight option (--lambda_*);
a weight of 0 or its --no_* flag removes the term and its computation. `--netG spade` has
no G_L, no D_L and no LBP term: the SPADE baseline.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import models.networks as networks
from models.networks.loss import GANLoss, VGGLoss, feature_matching, kld_loss
from models.networks.vgg import load_vgg19
from util.lbp import lbp_hard, lbp_soft


class Pix2PixModel(nn.Module):
    @staticmethod
    def modify_commandline_options(parser, is_train):
        parser.add_argument('--num_upsampling_layers', default='normal', choices=('normal', 'more', 'most'),
                            help="'more'/'most' add upsampling steps to G_I (SPADE)")
        parser.add_argument('--ngf_lbp', type=int, default=None, help='width of G_L (default: --ngf)')
        parser.add_argument('--nhidden', type=int, default=128, help='hidden width of the SPADE/MFADE branches')
        parser.add_argument('--lbp_temperature', type=float, default=1.0,
                            help='soft-LBP temperature, in gray levels (0..255 scale)')
        netG = parser.peek().netG
        if netG == 'ulbp':
            parser.set_defaults(norm_G='spectralmfadesyncbatch3x3')
        elif netG == 'pix2pixhd':
            parser.set_defaults(norm_G='instance')
        if is_train:
            parser.add_argument('--lambda_gan', type=float, default=1.0, help='image GAN loss of G')
            parser.add_argument('--lambda_lbp', type=float, default=10.0, help='L1(L, LBP(real))')
            parser.add_argument('--lambda_lbp_gan', type=float, default=1.0, help='GAN loss of D_L for G')
            parser.add_argument('--lambda_lbp_feat', type=float, default=10.0, help='feature matching of D_L')
            parser.add_argument('--no_lbp_loss', action='store_true', help='no L1(L, LBP(real))')
            parser.add_argument('--no_lbp_D', action='store_true', help='no unified LBP discriminator D_L')
            parser.add_argument('--no_lbp_ganFeat_loss', action='store_true', help='no D_L feature matching')
        return parser

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        self.use_lbp = opt.netG == 'ulbp'
        self.netG = networks.define_G(opt)
        self.netGL = networks.define_GL(opt) if self.use_lbp else None
        self.netE = networks.define_E(opt) if opt.use_vae else None
        self.netD = self.netDL = None
        if opt.is_train:
            self.netD = networks.define_D(opt, opt.semantic_nc + opt.output_nc)
            if self.use_lbp and not opt.no_lbp_D:
                self.netDL = networks.define_D(opt, opt.semantic_nc + 1)
            self.criterionGAN = GANLoss(opt.gan_mode)
            self.criterionVGG = VGGLoss(load_vgg19(opt.vgg_weights)) if self.weight('vgg') else None

    def weight(self, term):
        """The weight of a loss term; 0 when its --no_* option or the model switches it off."""
        o = self.opt
        off = {'gan': False, 'feat': o.no_ganFeat_loss, 'vgg': o.no_vgg_loss, 'kld': not o.use_vae,
               'lbp': not self.use_lbp or o.no_lbp_loss,
               'lbp_gan': self.netDL is None, 'lbp_feat': self.netDL is None or o.no_lbp_ganFeat_loss}[term]
        return 0.0 if off else getattr(o, f'lambda_{term}')

    def networks(self):
        """Name -> module of every network this configuration has (what a checkpoint holds)."""
        nets = {'G': self.netG, 'GL': self.netGL, 'E': self.netE, 'D': self.netD, 'DL': self.netDL}
        return {k: v for k, v in nets.items() if v is not None}

    def generator_parameters(self):
        return [p for k, n in self.networks().items() if k in ('G', 'GL', 'E') for p in n.parameters()]

    def discriminator_parameters(self):
        return [p for k, n in self.networks().items() if k in ('D', 'DL') for p in n.parameters()]

    def forward(self, data, mode):
        semantics, real = self.preprocess_input(data)
        if mode == 'generator':
            return self.compute_generator_loss(semantics, real)
        if mode == 'discriminator':
            return self.compute_discriminator_loss(semantics, real)
        if mode == 'encode_only':
            z, mu, logvar = self.encode_z(real)
            return z, mu, logvar
        if mode == 'inference':
            with torch.no_grad():
                return self.generate_fake(semantics, None)[0]
        raise ValueError(f"mode '{mode}': generator, discriminator, encode_only or inference")

    # ---- inputs ----
    def preprocess_input(self, data):
        """Label ids -> one-hot semantics (+ instance edges); image to the model's device."""
        device = next(self.parameters()).device
        label = data['label'].to(device, non_blocking=True).long()
        nc = self.opt.label_nc + int(self.opt.contain_dontcare_label)
        n, _, h, w = label.shape
        semantics = torch.zeros(n, nc, h, w, device=device).scatter_(1, label, 1.0)
        if not self.opt.no_instance:
            semantics = torch.cat([semantics, instance_edges(data['instance'].to(device))], 1)
        real = data['image'].to(device, non_blocking=True) if 'image' in data else None
        return semantics, real

    # ---- generation ----
    def encode_z(self, real):
        mu, logvar = self.netE(real)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return z, mu, logvar

    def generate_fake(self, semantics, real, compute_kld=False):
        """-> ({'synthesized_image', 'synthesized_lbp'}, KLD or None)."""
        z = kld = None
        if self.opt.use_vae and real is not None:
            z, mu, logvar = self.encode_z(real)
            if compute_kld:
                kld = kld_loss(mu, logvar)
        lbp = self.netGL(semantics) if self.use_lbp else None
        image = self.netG(semantics, lbp, z=z)
        return {'synthesized_image': image, 'synthesized_lbp': lbp}, kld

    # ---- losses ----
    def compute_generator_loss(self, semantics, real):
        w = self.weight
        fake, kld = self.generate_fake(semantics, real, compute_kld=w('kld') > 0)
        image, lbp = fake['synthesized_image'], fake['synthesized_lbp']
        losses = {}
        # D's own (DDP) wrapper is bypassed: D gets no gradient here, so nothing to synchronise.
        net_d, net_dl = bare(self.netD), bare(self.netDL)
        with frozen(net_d, net_dl):
            d_fake, d_real = self.discriminate(net_d, semantics, image, real)
            if w('gan'):
                losses['GAN'] = w('gan') * self.criterionGAN(d_fake, True, for_discriminator=False)
            if w('feat'):
                losses['GAN_Feat'] = w('feat') * feature_matching(d_fake, d_real)
            if self.use_lbp and (w('lbp') or self.netDL is not None):
                real_lbp = lbp_hard(real)
                if w('lbp'):
                    losses['LBP_L1'] = w('lbp') * F.l1_loss(lbp, real_lbp)
                if net_dl is not None:
                    soft = lbp_soft(image, self.opt.lbp_temperature)
                    (dl_gen, dl_img), dl_real = self.discriminate(net_dl, semantics, [lbp, soft], real_lbp)
                    if w('lbp_gan'):
                        losses['LBP_GAN'] = w('lbp_gan') * (self.criterionGAN(dl_gen, True, False)
                                                            + self.criterionGAN(dl_img, True, False))
                    if w('lbp_feat'):
                        losses['LBP_GAN_Feat'] = w('lbp_feat') * (feature_matching(dl_gen, dl_real)
                                                                  + feature_matching(dl_img, dl_real))
        if w('vgg'):
            losses['VGG'] = w('vgg') * self.criterionVGG(image, real)
        if kld is not None:
            losses['KLD'] = w('kld') * kld
        return losses, fake

    def compute_discriminator_loss(self, semantics, real):
        with torch.no_grad():
            fake, _ = self.generate_fake(semantics, real)
        image = fake['synthesized_image'].detach()
        d_fake, d_real = self.discriminate(self.netD, semantics, image, real)
        losses = {'D_Fake': self.criterionGAN(d_fake, False), 'D_real': self.criterionGAN(d_real, True)}
        if self.netDL is not None:
            soft = lbp_soft(image, self.opt.lbp_temperature)
            (dl_gen, dl_img), dl_real = self.discriminate(
                self.netDL, semantics, [fake['synthesized_lbp'].detach(), soft], lbp_hard(real))
            losses['DL_Fake'] = 0.5 * (self.criterionGAN(dl_gen, False) + self.criterionGAN(dl_img, False))
            losses['DL_real'] = self.criterionGAN(dl_real, True)
        return losses

    def discriminate(self, net, semantics, fakes, real):
        """One D pass over fake(s) and real, batched together (as SPADE) so both see the same D.

        fakes is a tensor or a list of tensors; returns (fake outputs [list if a list], real outputs),
        each output a list over scales of per-layer features.
        """
        many = isinstance(fakes, list)
        fakes = fakes if many else [fakes]
        batch = torch.cat([torch.cat([semantics, x], 1) for x in fakes + [real]], 0)
        split = [[f.chunk(len(fakes) + 1) for f in scale] for scale in net(batch)]
        chunks = [[[f[i] for f in scale] for scale in split] for i in range(len(fakes) + 1)]
        return (chunks[:-1] if many else chunks[0]), chunks[-1]


def bare(net):
    """The module inside a DistributedDataParallel wrapper (or the module itself)."""
    return net.module if isinstance(net, nn.parallel.DistributedDataParallel) else net


def instance_edges(instance):
    """N×1×H×W instance ids -> 1.0 where a pixel's 4-neighbour has another id (SPADE's edge map)."""
    t = instance
    edge = torch.zeros_like(t, dtype=torch.bool)
    horiz = t[..., :, 1:] != t[..., :, :-1]
    vert = t[..., 1:, :] != t[..., :-1, :]
    edge[..., :, 1:] |= horiz
    edge[..., :, :-1] |= horiz
    edge[..., 1:, :] |= vert
    edge[..., :-1, :] |= vert
    return edge.float()


class frozen:
    """Turn off requires_grad of the discriminators inside the generator step, so G's loss
    leaves no gradient in D (and autograd skips D's weight gradients entirely)."""

    def __init__(self, *nets):
        self.params = [p for n in nets if n is not None for p in n.parameters()]

    def __enter__(self):
        self.flags = [p.requires_grad for p in self.params]
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc):
        for p, flag in zip(self.params, self.flags):
            p.requires_grad_(flag)
