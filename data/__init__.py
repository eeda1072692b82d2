"""Dataset registry: `--dataset_mode X` loads class XDataset from data/X_dataset.py (SPADE's rule)."""
import importlib

import torch
from torch.utils.data import DataLoader, DistributedSampler

from util.errors import UserError

MODES = ('cityscapes', 'ade20k', 'coco', 'custom', 'demo')


def find_dataset_using_name(dataset_mode):
    if dataset_mode not in MODES:
        raise UserError(f"--dataset_mode {dataset_mode}: unknown; choose one of {', '.join(MODES)}")
    module = importlib.import_module(f'data.{dataset_mode}_dataset')
    wanted = dataset_mode.replace('_', '') + 'dataset'
    for name, cls in vars(module).items():
        if name.lower() == wanted:
            return cls
    raise ImportError(f"data/{dataset_mode}_dataset.py defines no class named like {wanted}")


def get_option_setter(dataset_mode):
    return find_dataset_using_name(dataset_mode).modify_commandline_options


def create_dataset(opt):
    dataset = find_dataset_using_name(opt.dataset_mode)(opt)
    print(f"dataset [{type(dataset).__name__}] of size {len(dataset)} was created")
    return dataset


def create_dataloader(opt):
    """DataLoader over the dataset; a DistributedSampler under torchrun (call its set_epoch each epoch)."""
    dataset = create_dataset(opt)
    shuffle, sampler, rank = not opt.serial_batches, None, 0
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=opt.seed, drop_last=opt.is_train)
        shuffle, rank = False, torch.distributed.get_rank()
    per_rank = len(sampler) if sampler is not None else len(dataset)
    if opt.is_train and per_rank < opt.batchSize:
        raise UserError(f"--dataroot {opt.dataroot}: {per_rank} training samples per process, fewer than "
                        f"--batchSize {opt.batchSize}, so no full batch; lower --batchSize or add data")
    # The generator orders the shuffle and seeds the workers' augmentation RNG; +rank so
    # that ranks do not draw identical crops/flips.
    generator = torch.Generator().manual_seed(opt.seed + rank)
    return DataLoader(dataset, batch_size=opt.batchSize, shuffle=shuffle, sampler=sampler,
                      num_workers=opt.nThreads, pin_memory=opt.device.type == 'cuda', drop_last=opt.is_train,
                      persistent_workers=opt.nThreads > 0, generator=generator)
