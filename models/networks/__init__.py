"""Network factory: the one place that reads `opt`. Every network is built here from explicit
arguments and initialised; the networks themselves never see the options."""
from data.base_dataset import image_size
from util.errors import UserError
from .initialization import init_weights
from .discriminator import MultiscaleDiscriminator
from .encoder import ConvEncoder
from .generator import UPSAMPLINGS, Pix2PixHDGenerator, SPADEGenerator, latent_size
from .label_conv import set_label_convs
from .lbp_generator import LBPGenerator
from .normalization import adaptive_norm


def uses_lbp(opt):
    """Whether the model has G_L and an LBP map (ULBPGAN and its ablations; not the baselines)."""
    return opt.netG == 'ulbp'


def label_convs(opt):
    """--label_convs for opt.device: auto = lookup on the CPU (measured faster there), dense on CUDA
    (the lookups were never measured on a GPU; cuDNN's convs are the safe default until they are)."""
    mode = getattr(opt, 'label_convs', 'auto')
    if mode == 'auto':
        device = getattr(opt, 'device', None)
        mode = 'dense' if device is not None and device.type == 'cuda' else 'lookup'
    return mode


def _init(net, opt):
    return set_label_convs(init_weights(net, opt.init_type, opt.init_variance), label_convs(opt))


def define_G(opt):
    if opt.netG == 'pix2pixhd':
        return _init(Pix2PixHDGenerator(opt.semantic_nc, opt.ngf, opt.norm_G), opt)
    latent = latent_size(*image_size(opt.crop_size, opt.aspect_ratio), opt.num_upsampling_layers)
    if latent is None:
        raise UserError(f"--crop_size {opt.crop_size} with --aspect_ratio {opt.aspect_ratio}: width and height must "
                        f"be multiples of {2 ** UPSAMPLINGS[opt.num_upsampling_layers]} for "
                        f"--num_upsampling_layers {opt.num_upsampling_layers}")
    make_norm = adaptive_norm(opt.norm_G, opt.semantic_nc, uses_lbp(opt), opt.nhidden,
                              opt.nhidden if opt.nhidden_lbp is None else opt.nhidden_lbp)
    net = SPADEGenerator(opt.semantic_nc, opt.ngf, latent, make_norm, opt.num_upsampling_layers,
                         spectral=opt.norm_G.startswith('spectral'), z_dim=opt.z_dim if opt.use_vae else 0)
    return _init(net, opt)


def define_GL(opt):
    height, width = image_size(opt.crop_size, opt.aspect_ratio)
    return _init(LBPGenerator(opt.semantic_nc, height, width, opt.ngf_lbp or opt.ngf), opt)


def define_D(opt, input_nc):
    return _init(MultiscaleDiscriminator(input_nc, opt.ndf, opt.n_layers_D, opt.num_D, opt.norm_D), opt)


def define_E(opt):
    return _init(ConvEncoder(opt.ngf, opt.z_dim, opt.norm_E), opt)  # --ngf wide, as SPADE's encoder
