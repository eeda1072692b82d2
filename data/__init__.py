"""Dataset registry: `--dataset_mode X` loads class XDataset from data/X_dataset.py (SPADE's rule)."""
import importlib

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from util.errors import DataError, UserError

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
    """DataLoader over the dataset with an EpochSampler (call loader.sampler.set_epoch each epoch).

    Under torchrun each rank reads its own share of every epoch's order. A bad file found
    while reading a batch raises DataError with the dataset's one-line message, whatever
    the worker count.
    """
    dataset = create_dataset(opt)
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    sampler = EpochSampler(len(dataset), not opt.serial_batches, opt.seed, rank, world)
    if opt.is_train and len(sampler) < opt.batchSize:
        raise UserError(f"--dataroot {opt.dataroot}: {len(sampler)} training samples per process, fewer than "
                        f"--batchSize {opt.batchSize}, so no full batch; lower --batchSize or add data")
    # Its own generator (for worker seeds) keeps the loader from drawing on torch's global RNG,
    # whose state a checkpoint restores.
    return Loader(ErrorsAsValues(dataset), batch_size=opt.batchSize, sampler=sampler, num_workers=opt.nThreads,
                  pin_memory=opt.device.type == 'cuda', drop_last=opt.is_train, collate_fn=collate,
                  persistent_workers=opt.nThreads > 0, generator=torch.Generator().manual_seed(opt.seed))


# A worker's exception reaches the main process re-raised with its traceback folded into the
# message; a UserError's message is therefore carried across as a value instead.
class BadSample:
    def __init__(self, message):
        self.message = message


class ErrorsAsValues(Dataset):
    """The dataset, with a UserError returned as a BadSample rather than raised."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        try:
            return self.dataset[key]
        except UserError as e:
            return BadSample(str(e))


def collate(samples):
    bad = [s for s in samples if isinstance(s, BadSample)]
    return bad[0] if bad else default_collate(samples)


class Loader(DataLoader):
    """A DataLoader that raises a batch's BadSample as DataError in the main process."""

    def __iter__(self):
        for batch in super().__iter__():
            if isinstance(batch, BadSample):
                raise DataError(batch.message)
            yield batch


class EpochSampler(Sampler):
    """Yields (epoch, index) keys: the order is a function of (seed, epoch), so it can be
    replayed, and resumed after `skip` samples; each rank takes every world-th key."""

    def __init__(self, size, shuffle, seed, rank=0, world=1):
        self.size, self.shuffle, self.seed, self.rank, self.world = size, shuffle, seed, rank, world
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch, skip=0):
        self.epoch, self.skip = epoch, skip

    def __iter__(self):
        order = torch.arange(self.size)
        if self.shuffle:
            order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed + self.epoch))
        mine = order[:self.size - self.size % self.world][self.rank::self.world]  # equal shares
        return iter([(self.epoch, int(i)) for i in mine[self.skip:]])

    def __len__(self):
        return self.size // self.world - self.skip
