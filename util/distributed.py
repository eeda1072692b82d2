"""torchrun support: the process group, DistributedDataParallel and batch norm on CPU ranks.

Launch with `torchrun --nproc_per_node N train.py ...`; without torchrun everything here is a
no-op. models.prepare wraps the networks (channels_last, compile, then DDP from here).
"""
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


def rank():
    return int(os.environ.get('RANK', 0))


def world_size():
    return int(os.environ.get('WORLD_SIZE', 1))


def launched():
    """Whether this process runs the distributed path: started by torchrun (even with one process,
    so that `torchrun --nproc_per_node 1` checks NCCL and DDP on one GPU), or with WORLD_SIZE > 1."""
    return world_size() > 1 or 'TORCHELASTIC_RUN_ID' in os.environ


def init(device):
    """Join torchrun's process group: NCCL on CUDA, gloo on the CPU."""
    if launched() and not dist.is_initialized():
        if device.type == 'cuda':
            torch.cuda.set_device(device)
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo', device_id=device if device.type == 'cuda' else None)


def any_rank(flag, device):
    """True on every rank when flag is True on one of them (so all ranks stop together)."""
    if not dist.is_initialized():
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t)
    return bool(t.item())


def in_group():
    """Whether this process has joined torchrun's process group (init() did)."""
    return dist.is_available() and dist.is_initialized()


def data_parallel(net, device):
    """net in DistributedDataParallel on this process's device."""
    return DDP(net, device_ids=[device.index] if device.type == 'cuda' else None)


def desync_batchnorm(module):
    """SyncBatchNorm only runs on accelerators: on CPU ranks use per-rank batch norm instead
    (DDP still keeps the weights identical; the statistics are each rank's own)."""
    for name, child in module.named_children():
        if isinstance(child, nn.SyncBatchNorm):
            bn = nn.BatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                child.track_running_stats)
            bn.load_state_dict(child.state_dict())
            setattr(module, name, bn)
        else:
            desync_batchnorm(child)
