"""Options shared by training and testing, in SPADE's names.

Model and dataset classes add their own options (and change defaults) through
`modify_commandline_options`, exactly as in SPADE. Two steps:

    options = TrainOptions()              # or TestOptions()
    opt = options.resolve(options.parse(args))

`parse` only parses. `resolve` does what needs a file or the machine: the options a trained
experiment fixes as defaults (the checkpoint's for test.py, opt.json's with --load_from_opt_file),
the device, and the defaults left to the machine (the demo's --amp auto). The chosen options are
saved as opt.txt (for people) and opt.json (for --load_from_opt_file; models/checkpoint.py writes
and reads it), never pickled. The defaults of the options that shape the networks are
models/config.py's (DEFAULTS): one place for each.
"""
import argparse
import os

import data
from data.transforms import image_size
from models.checkpoint import TrainedRun, opt_json_path, write_opt_json
from models.config import DEFAULTS, ModelConfig
from models.networks.normalization import parse_adaptive
from models.networks.vgg import VGG19_FILE
from models.pix2pix_model import Pix2PixModel
import util.amp as amp
from util import machine
from util.checkpoint import save_text
from util.errors import UserError
from util.weights import hub_checkpoint_path


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
        d = DEFAULTS
        # experiment
        parser.add_argument('--name', type=str, default='demo', help='experiment name: checkpoints/<name>/')
        parser.add_argument('--gpu_ids', type=str, default='0', help="e.g. '0' or '0,1'; '-1' forces the CPU")
        parser.add_argument('--checkpoints_dir', type=str, default='./checkpoints')
        parser.add_argument('--seed', type=int, default=0, help='seeds weights init, data order and augmentation')
        parser.add_argument('--phase', type=str, default='train', help='train, val or test')

        # normalisation ('spectral' prefix = spectral norm on convs; spade/mfade + param-free norm + kernel)
        parser.add_argument('--norm_G', type=str, default=d.norm_G)
        parser.add_argument('--norm_D', type=str, default=d.norm_D)
        parser.add_argument('--norm_E', type=str, default=d.norm_E)

        # input / output sizes
        parser.add_argument('--batchSize', type=int, default=1)
        parser.add_argument('--preprocess_mode', type=str, default='scale_width_and_crop',
                            choices=('resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop',
                                     'scale_shortside', 'scale_shortside_and_crop', 'fixed', 'none'))
        parser.add_argument('--load_size', type=int, default=1024, help='images are scaled to this size first')
        parser.add_argument('--crop_size', type=int, default=d.crop_size, help='then cropped to this size')
        parser.add_argument('--aspect_ratio', type=float, default=d.aspect_ratio,
                            help='width / height of the final image')
        parser.add_argument('--label_nc', type=int, default=d.label_nc, help='label classes, not counting dontcare')
        parser.add_argument('--contain_dontcare_label', action='store_true',
                            help='the label map has a dontcare value (label_nc), which gets its own channel')

        # data
        parser.add_argument('--dataroot', type=str, default='./datasets/demo')
        parser.add_argument('--dataset_mode', type=str, default=d.dataset_mode,
                            help=f"{' | '.join(data.modes())}: class XDataset of data/X_dataset.py")
        # (custom's folders are options whatever the mode: test.py learns the mode from the checkpoint)
        parser.add_argument('--label_dir', type=str, default='', help='custom: folder of label maps (PNG ids)')
        parser.add_argument('--image_dir', type=str, default='', help='custom: folder of images')
        parser.add_argument('--instance_dir', type=str, default='', help='custom: folder of instance maps, optional')
        parser.add_argument('--serial_batches', action='store_true', help='no shuffling')
        parser.add_argument('--no_flip', action='store_true', help='no random horizontal flip')
        parser.add_argument('--nThreads', type=int, default=2, help='data loader worker processes')
        parser.add_argument('--max_dataset_size', type=int, default=None, help='use at most this many samples')
        parser.add_argument('--no_pairing_check', action='store_true',
                            help='do not check that label and image file names match')
        parser.add_argument('--display_winsize', type=int, default=400)

        # generator
        parser.add_argument('--netG', type=str, default=d.netG, help='ulbp | spade | pix2pixhd')
        parser.add_argument('--ngf', type=int, default=d.ngf, help='generator width')
        parser.add_argument('--init_type', type=str, default=d.init_type, help='normal | xavier | kaiming | orthogonal')
        parser.add_argument('--init_variance', type=float, default=d.init_variance)
        parser.add_argument('--z_dim', type=int, default=d.z_dim, help='size of the style vector z')
        parser.add_argument('--no_instance', action='store_true', help='no instance-edge input channel')
        parser.add_argument('--use_vae', action='store_true', help='style encoder + KL loss')

        # weights, speed
        parser.add_argument('--vgg_weights', type=str, default='', help="torchvision's vgg19-dcbb9e9d.pth")
        parser.add_argument('--amp', type=str, default='none', choices=('none', 'bf16', 'fp16', 'auto'),
                            help='mixed precision (autocast): bf16 on CUDA or on a CPU with bf16 units '
                                 '(AVX512-BF16/AMX), fp16 on CUDA only; auto (the demo\'s default): bf16 and '
                                 'channels_last on a CPU with bf16 units, else none')
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

    def parse(self, args=None, defaults=None):
        """Parse args (a list, or sys.argv when None) into a namespace with derived fields: nothing
        but parsing (no file read, no machine probed; `resolve` does that).

        defaults: option values that replace the built-in and per-dataset defaults, e.g. what a
        checkpoint fixes; a value given in args still wins. Keys that are no option are dropped
        (an old opt.json may hold options that were removed since)."""
        parser = OptionParser(args, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        parser = self.initialize(parser)
        defaults = defaults or {}
        parser.set_defaults(**known(parser, defaults))  # before the setters, which read e.g. --netG, --dataset_mode
        # The model and the dataset add their own options and defaults.
        parser = Pix2PixModel.modify_commandline_options(parser, self.is_train)
        parser = data.dataset_class(parser.peek().dataset_mode).modify_commandline_options(parser, self.is_train)
        parser.set_defaults(**known(parser, defaults))  # and over the defaults the setters chose
        opt = parser.parse_args(args)
        self.parser, self.args = parser, args
        opt.is_train = self.is_train
        opt.gpu_ids = machine.parse_gpu_ids(opt.gpu_ids)
        check(opt)
        return opt

    def resolve(self, opt):
        """What parsing alone does not decide, in one step that train.py and test.py call after parse:
        the options a trained experiment fixes (`saved_defaults`) become defaults that the command
        line overrides (so args are parsed again with them), then the device and the defaults that
        depend on the machine (`decide_for_machine`). -> the options to run with."""
        saved = self.saved_defaults(opt)
        if saved:
            opt = self.parse(self.args, saved)
        return decide_for_machine(opt)

    def saved_defaults(self, opt):
        """opt.json's options with --load_from_opt_file (TestOptions adds what the run fixed)."""
        return self.load_saved(self.open_run(opt)) if opt.load_from_opt_file else {}

    def open_run(self, opt):
        """The trained run opt names (models/checkpoint.py), opened once: kept as self.run."""
        self.run = TrainedRun(os.path.join(opt.checkpoints_dir, opt.name), opt.which_epoch)
        return self.run

    def load_saved(self, run):
        """opt.json's options as defaults, without those of the run (name, device, data, counts)."""
        if run.opt_file is None:
            raise UserError(f"{opt_json_path(run.folder)} not found: --load_from_opt_file needs a "
                            f"trained experiment (check --name / --checkpoints_dir)")
        keep = ('name', 'checkpoints_dir', 'gpu_ids', 'phase', 'which_epoch', 'how_many', 'results_dir',
                'batchSize', 'load_from_opt_file', 'continue_train', 'nThreads', 'dataroot',
                'label_convs')  # (the device's choice, like gpu_ids: not the trained run's)
        return {k: v for k, v in run.trained.items() if k not in keep}

    def save(self, opt):
        """Write opt.txt (diff against defaults marked) and opt.json into checkpoints/<name>/, each whole
        or not at all."""
        values = {k: v for k, v in vars(opt).items() if k != 'device'}
        lines = []
        for k, v in sorted(values.items()):
            default = self.parser.get_default(k)
            mark = '' if v == default else f'\t[default: {default}]'
            lines.append(f'{k:>25}: {v}{mark}')
        folder = os.path.join(opt.checkpoints_dir, opt.name)
        save_text(os.path.join(folder, 'opt.txt'), '\n'.join(lines) + '\n')
        write_opt_json(folder, values)


def known(parser, values):
    """The entries of values that are options of parser."""
    dests = {action.dest for action in parser._actions}
    return {k: v for k, v in values.items() if k in dests}


def decide_for_machine(opt):
    """The device (util/machine.py picks it from --gpu_ids) and the defaults left to the machine:
    the demo's --amp auto and --channels_last (bf16 + channels_last on a CPU with bf16 units: it
    learns as fp32 does, docs/EXPERIMENTS.md's earlier demo tables, in 0.6 of the time) and its VGG
    loss (only when the weights are at hand, the demo being offline). -> opt"""
    opt.device = machine.device(opt.gpu_ids)
    fast = machine.auto_amp(opt.device) == 'bf16'  # (auto is the CPU demo's)
    if opt.amp == 'auto':
        opt.amp = 'bf16' if fast else 'none'
        if fast:
            print("--amp auto on a CPU with bf16 units: --amp bf16 --channels_last (--amp none for fp32)")
    if opt.channels_last is None:
        opt.channels_last = fast
    amp.autocast(opt)  # a --amp this machine refuses stops here, before any data or network is made
    if getattr(opt, 'no_vgg_loss', False) is None:
        opt.no_vgg_loss = not (opt.vgg_weights or os.path.isfile(hub_checkpoint_path(VGG19_FILE)))
    return opt


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
    if opt.aspect_ratio <= 0 or image_size(opt.crop_size, opt.aspect_ratio)[0] < 1:
        raise UserError(f"--aspect_ratio {opt.aspect_ratio}: width / height must be > 0 and leave a height of "
                        f"at least 1 pixel at --crop_size {opt.crop_size}")
    at_least = {'nThreads': 0, 'ngf': 1}
    if opt.is_train:  # training-only options: intervals, D's width and scales
        at_least.update({k: 1 for k in ('print_freq', 'display_freq', 'save_latest_freq', 'save_epoch_freq',
                                        'ndf', 'num_D', 'eval_num')}, eval_freq=0)
        if opt.max_iters is not None:
            at_least['max_iters'] = 1
    for name, least in at_least.items():
        if getattr(opt, name) < least:
            raise UserError(f"--{name} {getattr(opt, name)}: must be at least {least}")
    if opt.nhidden < 1:
        raise UserError(f"--nhidden {opt.nhidden}: must be at least 1 (the label branch's hidden width)")
    if not opt.lbp_grad_width > 0:
        raise UserError(f"--lbp_grad_width {opt.lbp_grad_width}: must be > 0 (grey levels)")
    if opt.nhidden_lbp is not None and opt.nhidden_lbp < 0:
        raise UserError(f"--nhidden_lbp {opt.nhidden_lbp}: must be >= 0 (0: no hidden layer)")
    uses_lbp = ModelConfig.from_options(opt).uses_lbp
    if opt.netG != 'pix2pixhd' and parse_adaptive(opt.norm_G)[0] == 'mfade' and not uses_lbp:
        raise UserError(f"--norm_G {opt.norm_G} needs the LBP map of --netG ulbp; use spectralspadesyncbatch3x3 "
                        f"with --netG {opt.netG}")
