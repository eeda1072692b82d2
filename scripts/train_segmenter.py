"""Train the small U-Net segmenter on a dataset's real images, for the mIoU protocol on demo/custom data.

    python scripts/train_segmenter.py --dataroot DIR --dataset_mode demo|custom|cityscapes|ade20k|coco
        [--out checkpoints/segmenter_<mode>.pth] [--iters 2000] [--lr 1e-3] [--batchSize N] [--gpu_ids -1]
        [any other data option of train.py, e.g. --label_nc 8 --load_size 256 --no_instance]

Images and labels come through the project's data loader with the same options as training, so
the segmenter sees what the generator is trained on. Classes: opt.label_nc (the dontcare id and
anything beyond is ignored); Cityscapes labels are mapped to the 19 train ids, as evaluate.py does.
The checkpoint (state dict, num_classes, dataset_mode) is what `evaluate.py --segmenter small
--seg_weights FILE` loads; it is written atomically, so an interrupted run never leaves half a file.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from anywhere

import data  # noqa: E402
from evaluation.segmentation import CITYSCAPES_CLASSES, IGNORE, cityscapes_train_ids  # noqa: E402
from evaluation.segmenters import small_checkpoint  # noqa: E402
from evaluation.segmenters.small import SmallUNet  # noqa: E402
from options.train_options import TrainOptions  # noqa: E402
from util import checkpoint  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--dataroot', required=True)
    p.add_argument('--dataset_mode', required=True, choices=data.MODES)
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


def data_options(args, data_args):
    argv = ['--dataset_mode', args.dataset_mode, '--dataroot', args.dataroot, '--gpu_ids', args.gpu_ids,
            '--name', 'segmenter_' + args.dataset_mode] + data_args
    if args.batchSize:
        argv += ['--batchSize', str(args.batchSize)]
    return TrainOptions().parse(argv)


def targets(label, opt):
    """Loader labels (N×1×H×W ids) -> N×H×W training targets with IGNORE for pixels to skip."""
    label = label[:, 0].long()
    if opt.dataset_mode == 'cityscapes':
        return torch.from_numpy(cityscapes_train_ids(label.numpy()).astype('int64'))
    return label.masked_fill((label < 0) | (label >= opt.label_nc), IGNORE)


def batches(loader):
    """Cycle through the loader for as many iterations as asked."""
    epoch = 0
    while True:
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def train(args, opt):
    num_classes = CITYSCAPES_CLASSES if opt.dataset_mode == 'cityscapes' else opt.label_nc
    torch.manual_seed(opt.seed)
    net = SmallUNet(num_classes).to(opt.device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    loader = data.create_dataloader(opt)
    stream = batches(loader)
    bar = tqdm(range(args.iters), desc='train segmenter', unit='iter')
    for _ in bar:
        sample = next(stream)
        target = targets(sample['label'], opt).to(opt.device)
        logits = net(sample['image'].to(opt.device))
        loss = F.cross_entropy(logits, target, ignore_index=IGNORE)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f'{loss.item():.3f}')
    checkpoint.save(args.out, small_checkpoint(net.cpu(), num_classes, opt.dataset_mode))
    print(f"saved {args.out} ({num_classes} classes); use it with "
          f"python evaluate.py --dataset_mode {opt.dataset_mode} --segmenter small --seg_weights {args.out}")
    return net


def main(argv=None):
    args, data_args = parse_args(argv)
    return train(args, data_options(args, data_args))


if __name__ == '__main__':
    exit_on_user_error(main)
