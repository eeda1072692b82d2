"""Network factory: every network is built here from a ModelConfig (models/config.py) and explicit
arguments, and initialised; the networks themselves never see the config. `label_convs` is the one
function here that reads options: how the device runs the label convolutions, which no weight depends on."""
from data.transforms import image_size
from util.errors import UserError
from .initialization import init_weights
from .discriminator import MultiscaleDiscriminator
from .encoder import ConvEncoder
from .generator import UPSAMPLINGS, Pix2PixHDGenerator, SPADEGenerator, latent_size
from .label_conv import set_label_convs
from .lbp_generator import LBPGenerator
from .normalization import adaptive_norm


def label_convs(opt):
    """--label_convs for opt.device: auto = lookup on the CPU (measured faster there), dense on CUDA
    (the lookups were never measured on a GPU; cuDNN's convs are the safe default until they are)."""
    mode = getattr(opt, 'label_convs', 'auto')
    if mode == 'auto':
        device = getattr(opt, 'device', None)
        mode = 'dense' if device is not None and device.type == 'cuda' else 'lookup'
    return mode


def _init(net, config, label_convs):
    return set_label_convs(init_weights(net, config.init_type, config.init_variance), label_convs)


def define_G(config, label_convs):
    c = config
    if c.netG == 'pix2pixhd':
        return _init(Pix2PixHDGenerator(c.semantic_nc, c.ngf, c.norm_G), c, label_convs)
    latent = latent_size(*image_size(c.crop_size, c.aspect_ratio), c.num_upsampling_layers)
    if latent is None:
        raise UserError(f"--crop_size {c.crop_size} with --aspect_ratio {c.aspect_ratio}: width and height must "
                        f"be multiples of {2 ** UPSAMPLINGS[c.num_upsampling_layers]} for "
                        f"--num_upsampling_layers {c.num_upsampling_layers}")
    make_norm = adaptive_norm(c.norm_G, c.semantic_nc, c.uses_lbp, c.nhidden,
                              c.nhidden if c.nhidden_lbp is None else c.nhidden_lbp)
    net = SPADEGenerator(c.semantic_nc, c.ngf, latent, make_norm, c.num_upsampling_layers,
                         spectral=c.norm_G.startswith('spectral'), z_dim=c.z_dim if c.use_vae else 0)
    return _init(net, c, label_convs)


def define_GL(config, label_convs):
    height, width = image_size(config.crop_size, config.aspect_ratio)
    return _init(LBPGenerator(config.semantic_nc, height, width, config.ngf_lbp or config.ngf), config, label_convs)


def define_D(config, input_nc, label_convs):
    c = config
    return _init(MultiscaleDiscriminator(input_nc, c.ndf, c.n_layers_D, c.num_D, c.norm_D), c, label_convs)


def define_E(config, label_convs):
    return _init(ConvEncoder(config.ngf, config.z_dim, config.norm_E), config, label_convs)  # --ngf wide, as SPADE's
