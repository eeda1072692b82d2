"""Train the small U-Net segmenter on a dataset's real images, for the mIoU of datasets without a published one.

    python scripts/train_segmenter.py --dataroot DIR --dataset_mode MODE
        [--out checkpoints/segmenter_<mode>.pth] [--iters 2000] [--lr 1e-3] [--batchSize N] [--gpu_ids -1]
        [any other data option of train.py, e.g. --label_nc 8 --load_size 256 --no_instance]

Images and labels come through the project's data loader with the same options as training, so the segmenter
sees what the generator is trained on. It learns the classes evaluate.py scores (`evaluation.segmentation.label_space`):
Cityscapes label ids as the 19 train ids, every other dataset its ids 0..label_nc-1 with the don't-care id ignored.
The checkpoint (state dict, num_classes, dataset_mode) is what `evaluate.py --segmenter small --seg_weights FILE`
loads; it is written atomically, so an interrupted run never leaves half a file.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from anywhere

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from tqdm import tqdm  # noqa: E402

import data  # noqa: E402
from evaluation.segmentation import IGNORE, label_space  # noqa: E402
from evaluation.segmenters import small_checkpoint  # noqa: E402
from evaluation.segmenters.small import SmallUNet  # noqa: E402
from options.train_options import TrainOptions  # noqa: E402
from util import checkpoint, machine  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402


def data_options(dataset_mode, dataroot, gpu_ids, batch_size=None, extra=()):
    """train.py's options for the data (extra: any other data option, e.g. --label_nc 8)."""
    argv = ['--dataset_mode', dataset_mode, '--dataroot', dataroot, '--gpu_ids', gpu_ids,
            '--name', 'segmenter_' + dataset_mode, *extra]
    if batch_size:
        argv += ['--batchSize', str(batch_size)]
    options = TrainOptions()
    return options.resolve(options.parse(argv))


def batches(loader):
    """Cycle through the loader for as many iterations as asked."""
    epoch = 0
    while True:
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def train_small_segmenter(opt, iters, lr, out):
    """Train SmallUNet for `iters` Adam steps on the real images of opt's data, save it to `out`."""
    num_classes, to_scored = label_space(opt.dataset_mode, opt.label_nc)
    machine.seed_everything(opt.seed)
    net = SmallUNet(num_classes).to(opt.device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    stream = batches(data.create_dataloader(opt))
    bar = tqdm(range(iters), desc='train segmenter', unit='iter')
    for _ in bar:
        sample = next(stream)
        target = torch.from_numpy(to_scored(sample['label'][:, 0].numpy())).to(opt.device)
        loss = F.cross_entropy(net(sample['image'].to(opt.device)), target, ignore_index=IGNORE)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f'{loss.item():.3f}')
    checkpoint.save(out, small_checkpoint(net.cpu(), num_classes, opt.dataset_mode))
    print(f"saved {out} ({num_classes} classes); use it with "
          f"python evaluate.py --dataset_mode {opt.dataset_mode} --segmenter small --seg_weights {out}")
    return net


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
