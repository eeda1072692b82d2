"""Train the small U-Net segmenter on a dataset's real images, for the mIoU of datasets without a published one.

    python scripts/train_segmenter.py --dataroot DIR --dataset_mode MODE
        [--out checkpoints/segmenter_<mode>.pth] [--iters 2000] [--lr 1e-3] [--batchSize N] [--gpu_ids -1]
        [any other data option of train.py, e.g. --label_nc 8 --load_size 256 --no_instance]

The training itself is evaluation/segmenters/training.py.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from anywhere

import data  # noqa: E402
from evaluation.segmenters.training import data_options, train_small_segmenter  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--dataroot', required=True)
    p.add_argument('--dataset_mode', required=True, choices=data.modes())
    p.add_argument('--out', default=None, help='default: checkpoints/segmenter_<dataset_mode>.pth')
    p.add_argument('--iters', type=int, default=2000)
    p.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate')
    p.add_argument('--batchSize', type=int, default=None, help="default: the dataset's")
    p.add_argument('--gpu_ids', default='0', help="'-1' forces the CPU")
    args, data_args = p.parse_known_args(argv)
    if args.iters < 1:
        raise UserError(f"--iters {args.iters}: must be at least 1")
    args.out = args.out or os.path.join('checkpoints', f'segmenter_{args.dataset_mode}.pth')
    return args, data_args


def main(argv=None):
    args, data_args = parse_args(argv)
    opt = data_options(args.dataset_mode, args.dataroot, args.gpu_ids, args.batchSize, data_args)
    return train_small_segmenter(opt, args.iters, args.lr, args.out)


if __name__ == '__main__':
    exit_on_user_error(main)
