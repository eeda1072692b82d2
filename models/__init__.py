"""The model: Pix2PixModel (models/pix2pix_model.py) over the networks of models/networks/, and how
its networks are prepared for a device (`prepare`) and taken out of those wrappers again (`unwrap`)."""
import torch
from torch.nn.parallel import DistributedDataParallel as DDP

import util.distributed as distributed
from util.machine import compile_cache_per_isa


def prepare(model, opt):
    """Each network of model.nets for opt.device, in place: --channels_last, then --compile, then
    DistributedDataParallel when this process is in torchrun's group (outermost, so that a pass
    needing no gradient sync can go around it). -> model"""
    in_group = distributed.in_group()
    if in_group and opt.device.type != 'cuda':
        distributed.desync_batchnorm(model)
    for name, net in model.nets.items():
        if opt.channels_last:
            net = net.to(memory_format=torch.channels_last)
        if opt.compile:
            compile_cache_per_isa()
            net = torch.compile(net, dynamic=False)  # fixed shapes: symbolic ones trip inductor on D
        if in_group:
            net = distributed.data_parallel(net, opt.device)
        model.nets[name] = net
    return model


def unwrap(net, keep_compiled=False):
    """The network inside prepare's wrappers: without DDP's and, unless keep_compiled, without
    torch.compile's (a checkpoint holds the plain module's state; a D pass that needs no gradient
    sync skips only DDP)."""
    if isinstance(net, DDP):
        net = net.module
    if not keep_compiled and hasattr(net, '_orig_mod'):
        net = net._orig_mod
    return net
