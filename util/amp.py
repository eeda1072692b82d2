"""--amp: the autocast context of training and of test.py, from one table."""
import torch

from util.errors import UserError

DTYPES = {'none': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def autocast(opt):
    """torch.autocast for opt.amp on opt.device (disabled for 'none')."""
    if opt.amp == 'fp16' and opt.device.type != 'cuda':
        raise UserError("--amp fp16 needs CUDA; use --amp bf16 or none on the CPU")
    dtype = DTYPES[opt.amp]
    return torch.autocast(opt.device.type, dtype=dtype, enabled=dtype is not None)
