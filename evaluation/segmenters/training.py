"""Training of the small U-Net segmenter on a dataset's real images (scripts/train_segmenter.py).

Images and labels come through the project's data loader with the same options as training, so
the segmenter sees what the generator is trained on. It learns the classes evaluate.py scores
(`evaluation.segmentation.label_space`): Cityscapes label ids as the 19 train ids, every other
dataset its ids 0..label_nc-1 with the don't-care id ignored. The checkpoint (state dict,
num_classes, dataset_mode) is what `evaluate.py --segmenter small --seg_weights FILE` loads; it is
written atomically, so an interrupted run never leaves half a file.
"""
import torch
import torch.nn.functional as F
from tqdm import tqdm

import data
from evaluation.segmentation import IGNORE, label_space
from evaluation.segmenters import small_checkpoint
from evaluation.segmenters.small import SmallUNet
from options.train_options import TrainOptions
from util import checkpoint


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
    torch.manual_seed(opt.seed)
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
