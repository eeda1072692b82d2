"""Weight initialisation shared by every network (SPADE's init_type / init_variance)."""
import torch.nn as nn
from torch.nn import init

from util.errors import UserError


def init_weights(net, init_type='xavier', gain=0.02):
    for m in net.modules():
        name = type(m).__name__
        if 'BatchNorm' in name and getattr(m, 'weight', None) is not None:
            init.normal_(m.weight, 1.0, gain)
            init.zeros_(m.bias)
        elif isinstance(m, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d)):
            w = m.parametrizations.weight.original if hasattr(m, 'parametrizations') else m.weight
            if init_type == 'normal':
                init.normal_(w, 0.0, gain)
            elif init_type == 'xavier':
                init.xavier_normal_(w, gain=gain)
            elif init_type == 'kaiming':
                init.kaiming_normal_(w, a=0, mode='fan_in')
            elif init_type == 'orthogonal':
                init.orthogonal_(w, gain=gain)
            else:
                raise UserError(f"--init_type {init_type}: choose normal, xavier, kaiming or orthogonal")
            if m.bias is not None:
                init.zeros_(m.bias)
    return net

