"""Model registry: `--model pix2pix` builds models.pix2pix_model.Pix2PixModel."""
from util.errors import UserError


def find_model_using_name(model_name):
    if model_name != 'pix2pix':
        raise UserError(f"--model {model_name}: unknown; the only model is pix2pix")
    from .pix2pix_model import Pix2PixModel
    return Pix2PixModel


def get_option_setter(model_name):
    return find_model_using_name(model_name).modify_commandline_options


def create_model(opt):
    return find_model_using_name(opt.model)(opt)
