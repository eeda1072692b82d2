"""Pix2PixModel: ties G_L, G_I (MFADE), the encoder, D_I, D_L and the losses together.

Built from a ModelConfig (models/config.py: every network's shape) and, for training, the training
options (the losses); `Pix2PixModel.from_options(opt)` builds it from parsed options.

Called with the data dict of data/base_dataset.py:
  generator_losses(data)     -> (G losses, {'synthesized_image', 'synthesized_lbp', 'real_lbp'})
  discriminator_losses(data) -> D losses
  generate(data)             -> {'synthesized_image', 'synthesized_lbp'[, 'real_lbp']} (no gradient;
                                with --use_vae the real image's style, random with --random_style
                                or without a real image)
`model(data, mode)` with SPADE's mode names ('generator', 'discriminator', 'inference') calls the
same methods.

Losses (docs/METHOD.md). G: GAN, GAN_Feat, VGG, KLD, LBP_L1, LBP_GAN, LBP_GAN_Feat.
D: D_Fake, D_real (D_I), DL_Fake, DL_real (D_L). Each has a weight option (--lambda_*);
a weight of 0 or its --no_* flag removes the term and its computation. `--netG spade` has
no G_L, no D_L and no LBP term: the SPADE baseline.
"""
import argparse
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

import models.networks as networks
from models import unwrap
from models.config import DEFAULTS, NORM_G, ModelConfig
from models.networks.semantics import Semantics
from models.networks.loss import GANLoss, VGGLoss, feature_matching, kld_loss
from models.networks.vgg import load_vgg19
from util.errors import UserError
from util.lbp import GRAD_COLOURS, LBP, VARIANTS


class Pix2PixModel(nn.Module):
    @staticmethod
    def modify_commandline_options(parser, is_train):
        d = DEFAULTS
        parser.add_argument('--num_upsampling_layers', default=d.num_upsampling_layers,
                            choices=('normal', 'more', 'most'),
                            help="'more'/'most' add upsampling steps to G_I (SPADE)")
        parser.add_argument('--ngf_lbp', type=int, default=d.ngf_lbp, help='width of G_L (default: --ngf)')
        parser.add_argument('--nhidden', type=int, default=d.nhidden,
                            help='hidden width of the SPADE/MFADE label branch')
        parser.add_argument('--nhidden_lbp', type=int, default=d.nhidden_lbp,
                            help="hidden width of MFADE's LBP branch (default: --nhidden); 0: γ_o, β_o = conv(L), "
                                 "the paper's figure")
        parser.add_argument('--lbp_variant', default=d.lbp_variant, choices=VARIANTS,
                            help="LBP operator: the authors' 3×3 'classic' or scikit-image's circular one")
        parser.add_argument('--lbp_grad_width', type=float, default=d.lbp_grad_width,
                            help="width in grey levels of the surrogate gradient of a generated image's LBP "
                                 "(docs/METHOD.md has the table)")
        parser.add_argument('--lbp_grad_colour', default=d.lbp_grad_colour, choices=GRAD_COLOURS,
                            help="how that gradient reaches R, G, B: 'grey' alike in all three; 'luminance' by "
                                 "rgb2gray's weights (mostly green: green-magenta fringes, docs/METHOD.md)")
        parser.add_argument('--lbp_temperature', action=Removed, help=argparse.SUPPRESS,
                            replacement="the LBP D_L sees is now exactly the hard one; its gradient's width is "
                                        "--lbp_grad_width (grey levels)")
        parser.add_argument('--random_style', action='store_true',
                            help="with --use_vae: random styles at inference instead of each real image's")
        netG = parser.peek().netG
        if netG in NORM_G:  # (another --netG is refused by the options' check)
            parser.set_defaults(norm_G=NORM_G[netG])
        if is_train:
            parser.add_argument('--lambda_gan', type=float, default=1.0, help='image GAN loss of G')
            parser.add_argument('--lambda_lbp', type=float, default=10.0, help='L1(L, LBP(real))')
            parser.add_argument('--lambda_lbp_gan', type=float, default=1.0, help='GAN loss of D_L for G')
            parser.add_argument('--lambda_lbp_feat', type=float, default=10.0, help='feature matching of D_L')
            parser.add_argument('--no_lbp_loss', action='store_true', help='no L1(L, LBP(real))')
            parser.add_argument('--no_lbp_D', action='store_true', help='no unified LBP discriminator D_L')
            parser.add_argument('--no_lbp_ganFeat_loss', action='store_true', help='no D_L feature matching')
            parser.add_argument('--no_lbp_image_fake', action='store_true',
                                help="D_L judges only G_L's map, not LBP(I): G_I gets no texture signal from D_L")
        return parser

    def __init__(self, config, train_opt=None, label_convs='lookup', compile=False, random_style=False):
        """config: every network's shape (models/config.py). train_opt: the training options (the losses'
        weights and switches, --gan_mode, --vgg_weights) for a model that trains, with D_I and D_L; None
        for one that only generates. label_convs: 'lookup' or 'dense' (networks.label_convs); compile:
        torch.compile the LBP operators; random_style: generate() draws styles instead of encoding
        the real images' (--use_vae)."""
        super().__init__()
        self.config, self.train_opt, self.random_style = config, train_opt, random_style
        self.use_lbp = config.uses_lbp
        self.lbp = LBP(config.lbp_variant, config.lbp_grad_width, compile=compile, grad_colour=config.lbp_grad_colour)
        nets = {'G': seeded('G', networks.define_G, config, label_convs)}  # the keys are the checkpoint's
        if self.use_lbp:
            nets['GL'] = seeded('GL', networks.define_GL, config, label_convs)
        if config.use_vae:
            nets['E'] = seeded('E', networks.define_E, config, label_convs)
        if train_opt is not None:
            nets['D'] = seeded('D', networks.define_D, config, config.semantic_nc + 3, label_convs)  # (S, RGB image)
            if self.use_lbp and not config.no_lbp_D:
                nets['DL'] = seeded('DL', networks.define_D, config, config.semantic_nc + 1, label_convs)
            self.criterionGAN = GANLoss(train_opt.gan_mode)
            self.criterionVGG = VGGLoss(load_vgg19(train_opt.vgg_weights)) if self.weight('vgg') else None
        self.nets = nn.ModuleDict(nets)

    @classmethod
    def from_options(cls, opt, config=None):
        """The model of parsed options, where they stop: its networks from config (by default the
        options' own, ModelConfig.from_options), the label convolutions for opt.device, --compile,
        --random_style, and with training options the losses."""
        return cls(config or ModelConfig.from_options(opt), opt if opt.is_train else None,
                   networks.label_convs(opt), opt.compile, opt.random_style)

    def weight(self, term):
        """The weight of a loss term; 0 when its --no_* option or the model switches it off."""
        o = self.train_opt
        has_dl = self.use_lbp and not self.config.no_lbp_D
        off = {'gan': False, 'feat': o.no_ganFeat_loss, 'vgg': o.no_vgg_loss, 'kld': not self.config.use_vae,
               'lbp': not self.use_lbp or o.no_lbp_loss,
               'lbp_gan': not has_dl, 'lbp_feat': not has_dl or o.no_lbp_ganFeat_loss}[term]
        return 0.0 if off else getattr(o, f'lambda_{term}')

    def networks(self):
        """Name -> module of every network this configuration has (what a checkpoint holds)."""
        return dict(self.nets.items())

    def generator_parameters(self):
        return [p for k in ('G', 'GL', 'E') if k in self.nets for p in self.nets[k].parameters()]

    def discriminator_parameters(self):
        return [p for k in ('D', 'DL') if k in self.nets for p in self.nets[k].parameters()]

    def forward(self, data, mode):
        """SPADE's entry point; each mode is one of the methods below."""
        methods = {'generator': self.generator_losses, 'discriminator': self.discriminator_losses,
                   'inference': self.generate}
        if mode not in methods:
            raise ValueError(f"mode '{mode}': one of {', '.join(methods)}")
        return methods[mode](data)

    # ---- inputs ----
    def preprocess_input(self, data):
        """-> (S, image): S the label map with its instance edges as `Semantics` (the ids stand for
        the one-hot map; convolutions over it are lookups), the image on the model's device."""
        device = next(self.parameters()).device
        label = data['label'].to(device, non_blocking=True).long()
        edges = None if self.config.no_instance else instance_edges(data['instance'].to(device))
        # The loaders and the Synthesizer check every label value (data.base_dataset.valid_ids).
        semantics = Semantics(label, self.config.label_values, edges)
        real = data['image'].to(device, non_blocking=True) if torch.is_tensor(data.get('image')) else None
        return semantics, real

    # ---- generation ----
    def encode_z(self, real):
        """The style encoder on real images -> (z sampled around mu, mu, logvar)."""
        mu, logvar = self.nets['E'](real)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return z, mu, logvar

    @torch.no_grad()
    def generate(self, data):
        semantics, real = self.preprocess_input(data)
        # As SPADE's inference: with --use_vae the style is each real image's, unless --random_style.
        style = None if self.random_style else real
        fake, _ = self.generate_fake(semantics, style)
        if real is not None:  # shown beside the synthesized LBP by test.py and the training page
            fake['real_lbp'] = self.lbp.hard(real)
        return fake

    def generate_fake(self, semantics, real=None, compute_kld=False, z=None):
        """G_L, then G_I -> ({'synthesized_image', 'synthesized_lbp'}, KLD or None). The style: z when
        given, else with --use_vae the real image's (encoded), else drawn inside G_I."""
        kld = None
        if self.config.use_vae and z is None and real is not None:
            z, mu, logvar = self.encode_z(real)
            if compute_kld:
                kld = kld_loss(mu, logvar)
        lbp = self.nets['GL'](semantics) if self.use_lbp else None
        image = self.nets['G'](semantics, lbp, z=z)
        return {'synthesized_image': image, 'synthesized_lbp': lbp}, kld

    # ---- losses ----
    def generator_losses(self, data):
        semantics, real = self.preprocess_input(data)
        w = self.weight
        fake, kld = self.generate_fake(semantics, real, compute_kld=w('kld') > 0)
        image, lbp = fake['synthesized_image'], fake['synthesized_lbp']
        losses = {}
        # D's DDP wrapper is bypassed: D gets no gradient here, so there is nothing to synchronise.
        net_d = unwrap(self.nets['D'], keep_compiled=True)
        net_dl = unwrap(self.nets['DL'], keep_compiled=True) if 'DL' in self.nets else None
        with frozen(net_d, net_dl):
            d_fake, d_real = self.discriminate(net_d, semantics, image, real)
            if w('gan'):
                losses['GAN'] = w('gan') * self.criterionGAN(d_fake, True, for_discriminator=False)
            if w('feat'):
                losses['GAN_Feat'] = w('feat') * feature_matching(d_fake, d_real)
            if w('lbp') or net_dl is not None:
                fake['real_lbp'] = real_lbp = self.lbp.hard(real)
                if w('lbp'):
                    losses['LBP_L1'] = w('lbp') * F.l1_loss(lbp, real_lbp)
                if net_dl is not None:
                    dl_fakes, dl_real = self.discriminate(net_dl, semantics, self.lbp_fakes(lbp, image), real_lbp)
                    # The mean over D_L's fakes, as in D_L's own loss: D_L then weighs as D_I does.
                    if w('lbp_gan'):
                        losses['LBP_GAN'] = w('lbp_gan') * mean(self.criterionGAN(f, True, False) for f in dl_fakes)
                    if w('lbp_feat'):
                        losses['LBP_GAN_Feat'] = w('lbp_feat') * mean(feature_matching(f, dl_real) for f in dl_fakes)
        if w('vgg'):
            losses['VGG'] = w('vgg') * self.criterionVGG(image, real)
        if kld is not None:
            losses['KLD'] = w('kld') * kld
        return losses, fake

    def discriminator_losses(self, data):
        semantics, real = self.preprocess_input(data)
        with torch.no_grad():
            fake, _ = self.generate_fake(semantics, real)
        image = fake['synthesized_image'].detach()
        d_fake, d_real = self.discriminate(self.nets['D'], semantics, image, real)
        losses = {'D_Fake': self.criterionGAN(d_fake, False), 'D_real': self.criterionGAN(d_real, True)}
        if 'DL' in self.nets:
            fakes = self.lbp_fakes(fake['synthesized_lbp'].detach(), image)
            dl_fakes, dl_real = self.discriminate(self.nets['DL'], semantics, fakes, self.lbp.hard(real))
            losses['DL_Fake'] = mean(self.criterionGAN(f, False) for f in dl_fakes)
            losses['DL_real'] = self.criterionGAN(dl_real, True)
        return losses

    def lbp_fakes(self, lbp, image):
        """D_L's fakes: G_L's map L and, unless --no_lbp_image_fake, LBP(I). LBP(I) is exactly the hard
        LBP of I's 8-bit rendering (so D_L cannot tell it from a photo's by the operator) and passes
        the surrogate gradient to G_I (util/lbp.py)."""
        return [lbp] if self.config.no_lbp_image_fake else [lbp, self.lbp.differentiable(image)]

    def discriminate(self, net, semantics, fakes, real):
        """One D pass over the fake(s) and the real, batched together (as SPADE) so that both see the
        same D. fakes: a tensor, or a list of tensors.

        -> (fake output, real output); with a list of fakes, a list of fake outputs, one per fake.
        An output is what D returns for one batch: a list over scales of per-layer features.
        """
        many = isinstance(fakes, list)
        fakes = fakes if many else [fakes]
        outputs = divide_pred(net(semantics, torch.cat(fakes + [real])), len(fakes) + 1)
        return (outputs[:-1] if many else outputs[0]), outputs[-1]


def divide_pred(pred, parts):
    """D's output for `parts` equal batches stacked into one -> one output per batch (SPADE's
    divide_pred, for any number of parts)."""
    outputs = [[] for _ in range(parts)]
    for scale in pred:
        chunks = [feature.chunk(parts) for feature in scale]
        for i, output in enumerate(outputs):
            output.append([chunk[i] for chunk in chunks])
    return outputs


def mean(values):
    values = list(values)
    return sum(values) / len(values)


def seeded(name, define, *args):
    """define(*args) with the CPU RNG seeded from the current seed and the network's name, leaving the
    RNG as it was: a network's initial weights then depend on the seed alone, not on which other
    networks were built before it, so two configurations built with one seed share the initial weights
    of every network they share (D_I of SPADE and of ULBPGAN: the ablation is paired) and draw the
    same noise afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed((torch.initial_seed() + zlib.crc32(name.encode())) % 2 ** 63)  # CPU only
        return define(*args)


class Removed(argparse.Action):
    """An option that no longer exists: giving it is an error that names its replacement."""

    def __init__(self, option_strings, dest, replacement, **kwargs):
        super().__init__(option_strings, dest, nargs='?', **kwargs)
        self.replacement = replacement

    def __call__(self, parser, namespace, values, option_string=None):
        raise UserError(f"{option_string} was removed: {self.replacement}")


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
