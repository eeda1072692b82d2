"""--amp: the autocast context of training and of test.py, from one table."""
import torch

from util import machine
from util.errors import UserError

DTYPES = {'none': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def autocast(opt):
    """torch.autocast for opt.amp on opt.device (disabled for 'none').

    bf16 on a CPU that only emulates it (no AVX512-BF16/AMX: oneDNN converts every element in
    software) is many times slower than fp32, so it is refused unless --force_amp asks for it."""
    if opt.amp == 'fp16' and opt.device.type != 'cuda':
        raise UserError("--amp fp16 needs CUDA; use --amp bf16 or none on the CPU")
    if opt.amp == 'bf16' and opt.device.type == 'cpu' and not getattr(opt, 'force_amp', False) \
            and not machine.cpu_has_bf16():
        raise UserError("--amp bf16: oneDNN does not run bf16 natively here (no AVX512-BF16 or AMX, or "
                        "ONEDNN_MAX_CPU_ISA caps it), so bf16 is emulated and many times slower than fp32; use --amp "
                        "none (or --force_amp to run it anyway)")
    dtype = DTYPES[opt.amp]
    return torch.autocast(opt.device.type, dtype=dtype, enabled=dtype is not None)
