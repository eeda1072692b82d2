"""Network factory: every network of Pix2PixModel is built and initialised here."""
from .base_network import init_weights
from .discriminator import MultiscaleDiscriminator
from .encoder import ConvEncoder
from .generator import Pix2PixHDGenerator, ULBPGenerator, check_norm_for_netG
from .lbp_generator import LBPGenerator


def _init(net, opt):
    return init_weights(net, opt.init_type, opt.init_variance)


def define_G(opt):
    check_norm_for_netG(opt)
    net = Pix2PixHDGenerator(opt) if opt.netG == 'pix2pixhd' else ULBPGenerator(opt)
    return _init(net, opt)


def define_GL(opt):
    height = round(opt.crop_size / opt.aspect_ratio)
    return _init(LBPGenerator(opt.semantic_nc, height, opt.crop_size, opt.ngf_lbp or opt.ngf), opt)


def define_D(opt, input_nc):
    return _init(MultiscaleDiscriminator(input_nc, opt.ndf, opt.n_layers_D, opt.num_D, opt.norm_D), opt)


def define_E(opt):
    return _init(ConvEncoder(opt), opt)
