"""The data factory: the one place that turns options into datasets and loaders, as
models/networks/__init__.py is for the networks. `--dataset_mode X` is class XDataset of
data/X_dataset.py (SPADE's rule), and the modes are the files there: a new dataset is one new
file, which says everything about its dataset (data/base_dataset.py's BaseDataset lists what).
Every dataset class takes explicit arguments and never sees `opt`. `open_dataset` builds one from
arguments, so that what has no options (evaluation's label files, serve.py's val maps) asks for a
dataset the same way.
"""
import importlib
import os
import signal
import sys

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from data.transforms import Preprocess, image_size
from util.errors import DataError, UserError

SUFFIX = '_dataset'  # data/<mode>_dataset.py


def modes():
    """Every X with a data/X_dataset.py, sorted (base_dataset.py is the base of them all, no mode)."""
    names = [f[:-len('.py')] for f in os.listdir(os.path.dirname(os.path.abspath(__file__))) if f.endswith('.py')]
    return sorted(n[:-len(SUFFIX)] for n in names if n.endswith(SUFFIX) and n != 'base' + SUFFIX)


def dataset_class(dataset_mode):
    """The class XDataset (any case, underscores dropped) of data/X_dataset.py."""
    found = modes()
    if dataset_mode not in found:
        raise UserError(f"--dataset_mode {dataset_mode}: unknown; choose one of {', '.join(found)} "
                        f"(the data/<mode>{SUFFIX}.py files)")
    module_name = f'data.{dataset_mode}{SUFFIX}'
    if module_name not in sys.modules:
        importlib.invalidate_caches()  # so that a file added since the interpreter started is found
    module = importlib.import_module(module_name)
    wanted = dataset_mode.replace('_', '') + 'dataset'
    for name, cls in vars(module).items():
        if name.lower() == wanted:
            return cls
    raise ImportError(f"data/{dataset_mode}{SUFFIX}.py defines no class named like {wanted}")


def mode_of(cls):
    """The --dataset_mode of a dataset class: X for data/X_dataset.py's."""
    return cls.__module__.rpartition('.')[2][:-len(SUFFIX)]


class ByMode:
    """mode -> an attribute of its dataset class, e.g. ByMode('MIOU_RULE')['ade20k'] == 'all': a table of
    the modes for the code that indexes one, which the classes fill in."""

    def __init__(self, attribute):
        self.attribute = attribute

    def __getitem__(self, dataset_mode):
        return getattr(dataset_class(dataset_mode), self.attribute)


def location(dataset_mode, values):
    """Where a dataset's files are, from option values (a dict, e.g. vars(opt) or opt.json's):
    {'root': --dataroot}, or what the mode's class reads instead (custom's folders)."""
    return dataset_class(dataset_mode).location(values)


def open_dataset(dataset_mode, phase, where, label_nc=None, contain_dontcare_label=None, **settings):
    """The dataset of `dataset_mode` from explicit arguments: where its files are (`location`), its
    phase, its label settings (by default the dataset's own, SPADE's: e.g. ADE20K 150 with don't
    care) and BaseDataset's other arguments in settings (instances, preprocess, ...)."""
    cls = dataset_class(dataset_mode)
    label_nc = cls.LABEL_NC if label_nc is None else label_nc
    dontcare = cls.CONTAIN_DONTCARE_LABEL if contain_dontcare_label is None else contain_dontcare_label
    return cls(**where, phase=phase, label_nc=label_nc, contain_dontcare_label=dontcare, **settings)


def preprocess(opt):
    """The Preprocess of opt: --preprocess_mode, --load_size, --crop_size, --aspect_ratio, and a random
    flip when training without --no_flip."""
    return Preprocess(opt.preprocess_mode, opt.load_size, opt.crop_size, opt.aspect_ratio,
                      flip=opt.is_train and not opt.no_flip)


def create_dataset(opt):
    """The dataset opt's data options describe."""
    dataset = open_dataset(opt.dataset_mode, opt.phase, location(opt.dataset_mode, vars(opt)), opt.label_nc,
                           opt.contain_dontcare_label, instances=not opt.no_instance, preprocess=preprocess(opt),
                           max_size=opt.max_dataset_size, pairing_check=not opt.no_pairing_check, seed=opt.seed)
    print(f"dataset [{type(dataset).__name__}] of size {len(dataset)} was created")
    return dataset


def random_batch(opt, n=1, seed=0, device='cpu'):
    """A batch as the loaders give it (the module docstring of data/base_dataset.py) at opt's image
    size, with random labels, instances and image: for tests and scripts/benchmark.py."""
    g = torch.Generator().manual_seed(seed)
    h, w = image_size(opt.crop_size, opt.aspect_ratio)
    values = opt.label_nc + int(opt.contain_dontcare_label)
    batch = {'label': torch.randint(0, values, (n, 1, h, w), generator=g),
             'instance': torch.tensor(0) if opt.no_instance else torch.randint(0, 3, (n, 1, h, w), generator=g),
             'image': torch.rand(n, 3, h, w, generator=g) * 2 - 1}
    return {**{k: v.to(device) for k, v in batch.items()}, 'path': ['x.png'] * n}


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
                  persistent_workers=opt.nThreads > 0, generator=torch.Generator().manual_seed(opt.seed),
                  worker_init_fn=leave_signals_to_the_main_process)


def leave_signals_to_the_main_process(worker_id):
    """Ctrl-C or a cluster's SIGTERM reaches every process of the job. A worker killed by the signal would
    crash the main process before train.py saves `latest`; one that exits cleanly leaves the main process
    to finish its iteration and save. SIGTERM must still end the worker: at interpreter exit
    multiprocessing terminates the workers of a loader still alive and waits for them without a timeout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process shuts its workers down itself
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))


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
