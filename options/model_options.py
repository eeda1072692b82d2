"""The options that pick a trained model, declared once for evaluate.py, generate.py and serve.py.

--name, --checkpoints_dir and --which_epoch name a run's checkpoints/<name>/<which_epoch>.pth, --gpu_ids
the device. Where a model is only run (generate.py, serve.py), --model DIR names it instead: a release
folder (export.py's) or any run's folder, from wherever; --name then only names the outputs, and
--no_verify loads a release whose weights do not match its card's sha256.
"""
import os

from util.errors import UserError


def add_model_options(parser, release=True):
    """The options on parser; release: also --model and --no_verify (and --name is then optional)."""
    also = ' (with --model: names the outputs)' if release else ''
    parser.add_argument('--name', required=not release, default=None, help=f'the experiment: checkpoints/<name>/{also}')
    parser.add_argument('--checkpoints_dir', default='./checkpoints', help='where <name>/ is')
    parser.add_argument('--which_epoch', default='latest', help='<which_epoch>.pth of the run')
    parser.add_argument('--gpu_ids', default='0', help="'-1' for the CPU; CUDA is used when there otherwise")
    if release:
        parser.add_argument('--model', default=None, metavar='DIR',
                            help='a release folder (export.py writes one) or a run folder, instead of --name')
        parser.add_argument('--no_verify', action='store_true',
                            help="load a release even if model.safetensors is not the file its card's sha256 names")
    return parser


def model_folder(args):
    """(folder, name) of the model the options name: --model DIR (named by --name or DIR's own name),
    else <checkpoints_dir>/<name>."""
    model = getattr(args, 'model', None)
    if model:
        if not os.path.isdir(model):
            raise UserError(f"--model {model}: no such folder; give a release folder (python export.py writes "
                            f"one) or a run's checkpoints/<name>")
        return model, args.name or os.path.basename(os.path.abspath(model))
    if not args.name:
        raise UserError("no model named: pass --name NAME (checkpoints/NAME) or --model DIR (a release folder)")
    return os.path.join(args.checkpoints_dir, args.name), args.name
