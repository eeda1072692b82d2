"""Score the images test.py wrote: FID, KID, mIoU / pixel accuracy, texture divergence and LBP distance.

    python evaluate.py --name NAME [--dataset_mode MODE] [--checkpoints_dir ./checkpoints]
        [--results_dir ./results --phase val --which_epoch latest]
        [--segmenter drn|upernet|deeplabv2|small] [--miou_rule union|all|gt] [--seg_size native|original]
        [--dataroot DIR] [--lbp_variant classic|skimage] [--fid_weights P] [--seg_weights P]
        [--no_fid] [--no_seg] [--allow_missing] [--gpu_ids -1] [--batchSize 8]

What the run fixed (checkpoints/<name>: its checkpoint and opt.json, models/checkpoint.py) gives the
defaults of --dataset_mode, --dataroot, --lbp_variant and the label count; what is given here wins.
Reads results/<name>/<phase>_<epoch>/images/, writes metrics.json next to it, and prints the protocol
line and a markdown table row. The metrics and their protocol: evaluation/ (docs/EVALUATION.md).
Every weight file is looked for before any scoring, and the missing ones are named together in one
error; with --allow_missing their metrics are reported as n/a.
"""
import argparse
import os

import data
from evaluation.run import evaluate
from evaluation.segmentation import DEFAULT_MIOU_RULE, MIOU_RULES
from evaluation.segmenters import DEFAULT_FOR_DATASET, NAMES
from evaluation.table import HEADER, reference_rows, row
from models.checkpoint import TrainedRun, opt_json_path
from options.model_options import add_model_options
from util.errors import UserError, exit_on_user_error
from util.lbp import VARIANTS


def per_mode(table):
    """'union (camvid, cityscapes, ...), all (ade20k), ...': each value of a ByMode table, with its modes."""
    modes = {}
    for mode in data.modes():
        modes.setdefault(table[mode], []).append(mode)
    return ', '.join(f"{value} ({', '.join(names)})" for value, names in modes.items())


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_options(p, release=False)  # the run: its results/<name>/ and checkpoints/<name>/
    p.add_argument('--results_dir', default='./results')
    p.add_argument('--phase', default='val')
    p.add_argument('--dataset_mode', choices=data.modes(), default=None, help="default: opt.json's")
    p.add_argument('--dataroot', default=None, help="the dataset, for --seg_size original; default: opt.json's")
    p.add_argument('--lbp_variant', choices=VARIANTS, default=None,
                   help="LBP operator of the LBP distance; default: opt.json's, else classic")
    p.add_argument('--segmenter', choices=NAMES, default=None,
                   help=f"default: the dataset's: {per_mode(DEFAULT_FOR_DATASET)}")
    p.add_argument('--miou_rule', choices=MIOU_RULES, default=None,
                   help=f"default: the dataset's reference: {per_mode(DEFAULT_MIOU_RULE)}")
    p.add_argument('--seg_size', choices=('native', 'original'), default='native',
                   help="segment at the synthesized size, or upsampled to the dataset's label files")
    p.add_argument('--fid_weights', default='', help='pt_inception-2015-12-05-6726825d.pth (default: hub cache)')
    p.add_argument('--seg_weights', default=None,
                   help='segmenter weights (upernet: the folder with encoder/decoder_epoch_50.pth); default: '
                        'hub cache, or <checkpoints_dir>/segmenter_<dataset_mode>.pth for small')
    p.add_argument('--no_fid', action='store_true', help='skip FID and KID')
    p.add_argument('--no_seg', action='store_true', help='skip mIoU and accuracy')
    p.add_argument('--no_c2st', action='store_true',
                   help='skip the classifier two-sample test (about a minute on a CPU core for 200 images)')
    p.add_argument('--allow_missing', action='store_true',
                   help='report a metric whose weights are missing as n/a instead of failing')
    p.add_argument('--batchSize', type=int, default=8)
    opt = p.parse_args(argv)
    if opt.batchSize < 1:
        raise UserError(f"--batchSize {opt.batchSize}: must be at least 1")
    return with_saved_defaults(opt)


def with_saved_defaults(opt):
    """What the run fixed (models/checkpoint.py) as the defaults; a value given here wins."""
    run = TrainedRun(os.path.join(opt.checkpoints_dir, opt.name), opt.which_epoch)
    fixed = run.fixed()
    opt.opt_file, opt.saved = run.opt_file, {**run.trained, **fixed}
    opt.dataset_mode = opt.dataset_mode or fixed.get('dataset_mode')
    if opt.dataset_mode is None:
        raise UserError(f"--dataset_mode not given and {opt_json_path(run.folder)} not found (nor a "
                        f"checkpoint naming it); pass --dataset_mode ({'|'.join(data.modes())}) or the "
                        f"--checkpoints_dir the model was trained in")
    if opt.dataset_mode not in data.modes():
        raise UserError(f"{run.opt_file or run.path}: dataset_mode {opt.dataset_mode} unknown; pass --dataset_mode "
                        f"({'|'.join(data.modes())})")
    opt.dataroot = opt.dataroot or fixed.get('dataroot')
    opt.lbp_variant = opt.lbp_variant or fixed.get('lbp_variant') or 'classic'
    opt.label_nc = fixed.get('label_nc')
    opt.segmenter = opt.segmenter or DEFAULT_FOR_DATASET[opt.dataset_mode]
    opt.miou_rule = opt.miou_rule or DEFAULT_MIOU_RULE[opt.dataset_mode]
    if opt.seg_weights is None:
        opt.seg_weights = ''
        if opt.segmenter == 'small':
            opt.seg_weights = os.path.join(opt.checkpoints_dir, f'segmenter_{opt.dataset_mode}.pth')
    reads_dataroot = 'root' in data.location(opt.dataset_mode, {})  # (custom reads its own folders)
    if opt.seg_size == 'original' and not opt.no_seg and not opt.dataroot and reads_dataroot:
        raise UserError(f"--seg_size original reads the dataset's label files, but no --dataroot is given "
                        f"and {opt.opt_file or 'no opt.json'} has none; pass --dataroot")
    return opt


def main(argv=None):
    opt = parse_args(argv)
    metrics = evaluate(opt)
    print(metrics['protocol_line'])
    print('\n'.join(HEADER))
    print('\n'.join([row(opt.name, metrics), *reference_rows(metrics)]))
    return metrics


if __name__ == '__main__':
    exit_on_user_error(main)
