"""Options shared by training and testing, in SPADE's names.

Model and dataset classes add their own options (and change defaults) through
`modify_commandline_options`, exactly as in SPADE. The chosen options are saved
as opt.txt (for people) and opt.json (for --load_from_opt_file), never pickled.
"""
import argparse
import json
import os

import torch

import data
from models.networks import uses_lbp
from models.networks.normalization import parse_adaptive
from models.pix2pix_model import Pix2PixModel
from util.errors import UserError


class OptionParser(argparse.ArgumentParser):
    """An ArgumentParser that remembers its argument list, so option setters can peek at it."""

    def __init__(self, args, **kwargs):
        super().__init__(**kwargs)
        self.args = args

    def peek(self):
        return self.parse_known_args(self.args)[0]


class BaseOptions:
    is_train = False

    def initialize(self, parser):
        # experiment
        parser.add_argument('--name', type=str, default='demo', help='experiment name: checkpoints/<name>/')
        parser.add_argument('--gpu_ids', type=str, default='0', help="e.g. '0' or '0,1'; '-1' forces the CPU")
        parser.add_argument('--checkpoints_dir', type=str, default='./checkpoints')
        parser.add_argument('--seed', type=int, default=0, help='seeds weights init, data order and augmentation')
        parser.add_argument('--phase', type=str, default='train', help='train, val or test')

        # normalisation ('spectral' prefix = spectral norm on convs; spade/mfade + param-free norm + kernel)
        parser.add_argument('--norm_G', type=str, default='spectralspadesyncbatch3x3')
        parser.add_argument('--norm_D', type=str, default='spectralinstance')
        parser.add_argument('--norm_E', type=str, default='spectralinstance')

        # input / output sizes
        parser.add_argument('--batchSize', type=int, default=1)
        parser.add_argument('--preprocess_mode', type=str, default='scale_width_and_crop',
                            choices=('resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop',
                                     'scale_shortside', 'scale_shortside_and_crop', 'fixed', 'none'))
        parser.add_argument('--load_size', type=int, default=1024, help='images are scaled to this size first')
        parser.add_argument('--crop_size', type=int, default=512, help='then cropped to this size')
        parser.add_argument('--aspect_ratio', type=float, default=1.0, help='width / height of the final image')
        parser.add_argument('--label_nc', type=int, default=182, help='label classes, not counting dontcare')
        parser.add_argument('--contain_dontcare_label', action='store_true',
                            help='the label map has a dontcare value (label_nc), which gets its own channel')

        # data
        parser.add_argument('--dataroot', type=str, default='./datasets/demo')
        parser.add_argument('--dataset_mode', type=str, default='demo',
                            help='cityscapes | ade20k | coco | custom | demo')
        parser.add_argument('--serial_batches', action='store_true', help='no shuffling')
        parser.add_argument('--no_flip', action='store_true', help='no random horizontal flip')
        parser.add_argument('--nThreads', type=int, default=2, help='data loader worker processes')
        parser.add_argument('--max_dataset_size', type=int, default=None, help='use at most this many samples')
        parser.add_argument('--no_pairing_check', action='store_true',
                            help='do not check that label and image file names match')
        parser.add_argument('--display_winsize', type=int, default=400)

        # generator
        parser.add_argument('--netG', type=str, default='ulbp', help='ulbp | spade | pix2pixhd')
        parser.add_argument('--ngf', type=int, default=64, help='generator width')
        parser.add_argument('--init_type', type=str, default='xavier', help='normal | xavier | kaiming | orthogonal')
        parser.add_argument('--init_variance', type=float, default=0.02)
        parser.add_argument('--z_dim', type=int, default=256, help='size of the style vector z')
        parser.add_argument('--no_instance', action='store_true', help='no instance-edge input channel')
        parser.add_argument('--use_vae', action='store_true', help='style encoder + KL loss')

        # weights, speed
        parser.add_argument('--vgg_weights', type=str, default='', help="torchvision's vgg19-dcbb9e9d.pth")
        parser.add_argument('--amp', type=str, default='none', choices=('none', 'bf16', 'fp16'),
                            help='mixed precision (autocast): bf16 on CUDA or on a CPU with bf16 units '
                                 '(AVX512-BF16/AMX), fp16 on CUDA only')
        parser.add_argument('--force_amp', action='store_true',
                            help='run --amp bf16 even on a CPU that only emulates bf16 (many times slower)')
        parser.add_argument('--channels_last', action='store_true', help='channels_last memory format (CPU and CUDA)')
        parser.add_argument('--label_convs', type=str, default='auto', choices=('auto', 'lookup', 'dense'),
                            help='convolutions over the label map: lookups from the label ids (measured faster '
                                 'on the CPU), dense convs of the one-hot map, or auto: lookup on the CPU, dense '
                                 'on CUDA (not yet measured there); the weights are the same either way')
        parser.add_argument('--compile', action='store_true', help='torch.compile the networks')
        parser.add_argument('--load_from_opt_file', action='store_true',
                            help="take the options saved with the checkpoint (opt.json) as defaults")
        return parser

    def gather_options(self, args=None):
        parser = OptionParser(args, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        parser = self.initialize(parser)
        stored = self.stored_defaults(parser.peek())
        parser.set_defaults(**stored)  # before the setters, which read e.g. --netG and --dataset_mode
        # The model and dataset choices add their own options and defaults.
        parser = Pix2PixModel.modify_commandline_options(parser, self.is_train)
        parser = data.get_option_setter(parser.peek().dataset_mode)(parser, self.is_train)
        parser.set_defaults(**stored)  # and over the defaults the setters chose
        opt = parser.peek()
        if opt.load_from_opt_file:
            parser.set_defaults(**self.load_saved(opt))
        self.parser = parser
        return parser.parse_args(args)

    def stored_defaults(self, opt):
        """Defaults that a trained experiment fixes; see TestOptions."""
        return {}

    def option_file(self, opt, ext):
        return os.path.join(opt.checkpoints_dir, opt.name, f'opt.{ext}')

    def load_saved(self, opt):
        path = self.option_file(opt, 'json')
        if not os.path.isfile(path):
            raise UserError(f"{path} not found: --load_from_opt_file needs a trained experiment "
                            f"(check --name / --checkpoints_dir)")
        with open(path) as f:
            saved = json.load(f)
        keep = ('name', 'checkpoints_dir', 'gpu_ids', 'phase', 'which_epoch', 'how_many', 'results_dir',
                'batchSize', 'load_from_opt_file', 'continue_train', 'nThreads', 'dataroot',
                'label_convs')  # (the device's choice, like gpu_ids: not the trained run's)
        return {k: v for k, v in saved.items() if k not in keep}

    def save(self, opt):
        """Write opt.txt (diff against defaults marked) and opt.json into checkpoints/<name>/."""
        os.makedirs(os.path.join(opt.checkpoints_dir, opt.name), exist_ok=True)
        lines = []
        for k, v in sorted(vars(opt).items()):
            if k == 'device':
                continue
            default = self.parser.get_default(k)
            mark = '' if v == default else f'\t[default: {default}]'
            lines.append(f'{k:>25}: {v}{mark}')
        with open(self.option_file(opt, 'txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        with open(self.option_file(opt, 'json'), 'w') as f:
            json.dump({k: v for k, v in vars(opt).items() if k != 'device'}, f, indent=1, sort_keys=True)

    def parse(self, args=None, save=False):
        """Parse args (a list, or sys.argv when None) into a namespace with derived fields."""
        opt = self.gather_options(args)
        opt.is_train = self.is_train
        opt.semantic_nc = opt.label_nc + int(opt.contain_dontcare_label) + int(not opt.no_instance)
        opt.gpu_ids = parse_gpu_ids(opt.gpu_ids)
        opt.device = resolve_device(opt.gpu_ids)
        check(opt)
        if save:
            self.save(opt)
        self.opt = opt
        return opt


def parse_gpu_ids(text):
    """'0,1' -> [0, 1]; negative ids ('-1') mean the CPU and are dropped."""
    try:
        ids = [int(i) for i in str(text).split(',') if i.strip()]
    except ValueError:
        raise UserError(f"--gpu_ids {text}: comma-separated GPU numbers, e.g. 0 or 0,1 (-1 for the CPU)") from None
    return [i for i in ids if i >= 0]


def resolve_device(gpu_ids):
    """CUDA when asked for and present, CPU otherwise (so '--gpu_ids 0' works on a laptop)."""
    if gpu_ids and torch.cuda.is_available():
        local_rank = int(os.environ.get('LOCAL_RANK', 0))
        return torch.device('cuda', gpu_ids[local_rank % len(gpu_ids)])
    return torch.device('cpu')


def check(opt):
    """Reject option values that would only fail later, deep inside torch."""
    if opt.label_nc < 1:
        raise UserError(f"--label_nc {opt.label_nc}: must be at least 1")
    if opt.batchSize < 1:
        raise UserError(f"--batchSize {opt.batchSize}: must be at least 1")
    if opt.crop_size < 16:
        raise UserError(f"--crop_size {opt.crop_size}: must be at least 16")
    if opt.netG not in ('ulbp', 'spade', 'pix2pixhd'):
        raise UserError(f"--netG {opt.netG}: choose ulbp, spade or pix2pixhd")
    if opt.aspect_ratio <= 0 or round(opt.crop_size / opt.aspect_ratio) < 1:
        raise UserError(f"--aspect_ratio {opt.aspect_ratio}: width / height must be > 0 and leave a height of "
                        f"at least 1 pixel at --crop_size {opt.crop_size}")
    at_least = {'nThreads': 0, 'ngf': 1}
    if opt.is_train:  # training-only options: intervals, D's width and scales
        at_least.update({k: 1 for k in ('print_freq', 'display_freq', 'save_latest_freq', 'save_epoch_freq',
                                        'ndf', 'num_D', 'eval_num')}, eval_freq=0)
    for name, least in at_least.items():
        if getattr(opt, name) < least:
            raise UserError(f"--{name} {getattr(opt, name)}: must be at least {least}")
    if opt.nhidden < 1:
        raise UserError(f"--nhidden {opt.nhidden}: must be at least 1 (the label branch's hidden width)")
    if not opt.lbp_grad_width > 0:
        raise UserError(f"--lbp_grad_width {opt.lbp_grad_width}: must be > 0 (grey levels)")
    if opt.nhidden_lbp is not None and opt.nhidden_lbp < 0:
        raise UserError(f"--nhidden_lbp {opt.nhidden_lbp}: must be >= 0 (0: no hidden layer)")
    if opt.netG != 'pix2pixhd' and parse_adaptive(opt.norm_G)[0] == 'mfade' and not uses_lbp(opt):
        raise UserError(f"--norm_G {opt.norm_G} needs the LBP map of --netG ulbp; use spectralspadesyncbatch3x3 "
                        f"with --netG {opt.netG}")
