"""What this machine can do for training: the one place that detects it, so that every choice made
from it (the demo's bf16, the benchmark's fast path, --amp's refusal) agrees.

    from util import machine
    machine.describe()            # dict: CPU model, ISA flags, native bf16/fp16, threads, CUDA devices
    machine.summary()             # the same in one line (benchmark header, loss_log.txt header)
    machine.cpu_has_bf16()        # whether bf16 runs natively on this CPU (else oneDNN emulates it)
    machine.device_for('0')       # the device a run with --gpu_ids 0 uses (CUDA if there, else the CPU)
    machine.native_bf16(device)   # whether bf16 runs natively there: then bf16 + channels_last is the fast path
    machine.peak_memory_mb(device)

Native bf16 on the CPU needs two things: oneDNN must accept bf16 (torch's probe
`torch.ops.mkldnn._is_mkldnn_bf16_supported()`, which is False under e.g. ONEDNN_MAX_CPU_ISA=AVX2)
and the CPU must have bf16 instructions (/proc/cpuinfo: avx512_bf16, amx_bf16, avx_ne_convert, or
bf16 on Arm). The probe alone is not enough: oneDNN accepts bf16 on any AVX-512 CPU and emulates
it there, several times slower than fp32. Nothing here times anything.
"""
import functools
import getpass
import os
import platform
import resource
import tempfile

import torch

from util.errors import UserError

CPUINFO = '/proc/cpuinfo'
# ISA flags worth reporting, in /proc/cpuinfo's spelling (x86 `flags`, Arm `Features`).
REPORTED_FLAGS = ('avx2', 'avx512f', 'avx512_bf16', 'avx512_fp16', 'amx_tile', 'amx_bf16', 'amx_fp16',
                  'avx_ne_convert', 'bf16', 'fphp')
BF16_FLAGS = ('avx512_bf16', 'amx_bf16', 'avx_ne_convert', 'bf16')  # any one: bf16 arithmetic in hardware
FP16_FLAGS = ('avx512_fp16', 'amx_fp16', 'fphp')
CUDA_BF16_MAJOR = 8  # compute capability of the first GPUs with bf16 tensor cores (Ampere)


def read_cpuinfo(path=None):
    """-> (model name or None, set of ISA flags); (None, set()) where there is no /proc/cpuinfo."""
    try:
        with open(path or CPUINFO) as f:
            text = f.read()
    except OSError:
        return None, set()
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(':')
        key = key.strip().lower()
        if key in ('model name', 'cpu model', 'hardware') and model is None:
            model = value.strip() or None
        elif key in ('flags', 'features') and not flags:
            flags = set(value.split())
    return model, flags


def _onednn_bf16_probe():
    """torch's answer: does oneDNN run bf16 ops here (natively or emulated)?"""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _onednn_fp16_probe():
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    except (AttributeError, RuntimeError):
        return False


def _native(probe, flags, wanted):
    """probe() and, where the flags could be read, one of the wanted flags."""
    return probe() and (not flags or any(f in flags for f in wanted))


@functools.lru_cache(maxsize=None)  # asked at every autocast (each training step): read the files once
def cpu_has_bf16():
    """Whether bf16 runs natively on this CPU (AVX512-BF16, AMX or Arm BF16), not emulated."""
    return _native(_onednn_bf16_probe, read_cpuinfo()[1], BF16_FLAGS)


def cpu_has_fp16():
    """Whether oneDNN runs fp16 natively on this CPU (AVX512-FP16 / AMX-FP16); --amp fp16 is CUDA-only here."""
    return _native(_onednn_fp16_probe, read_cpuinfo()[1], FP16_FLAGS)


def native_bf16(device):
    """Whether bf16 runs natively on `device`: a CUDA GPU of compute capability 8 or more (bf16 tensor
    cores), or a CPU with bf16 units. Where it does, bf16 + channels_last is the fast path."""
    if device.type == 'cuda':
        return torch.cuda.get_device_capability(device)[0] >= CUDA_BF16_MAJOR
    return device.type == 'cpu' and cpu_has_bf16()


# The fast path where bf16 is native (README "Performance"): the options train.py and test.py take.
FAST_OPTIONS = ('--amp', 'bf16', '--channels_last')


def auto_amp(device):
    """--amp auto's choice on a CPU: bf16 (with channels_last) where bf16 is native, else fp32. (On CUDA the user
    chooses: auto means fp32 there, as before.)"""
    return 'bf16' if device.type == 'cpu' and native_bf16(device) else 'none'


def seed_everything(seed):
    """Python's, NumPy's and torch's generators from one seed (train.py, test.py, the segmenter's training)."""
    import random
    import numpy as np
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def parse_gpu_ids(text):
    """--gpu_ids '0,1' -> [0, 1]; negative ids ('-1') mean the CPU and are dropped."""
    try:
        ids = [int(i) for i in str(text).split(',') if i.strip()]
    except ValueError:
        raise UserError(f"--gpu_ids {text}: comma-separated GPU numbers, e.g. 0 or 0,1 (-1 for the CPU)") from None
    return [i for i in ids if i >= 0]


def as_device(device):
    """None: CUDA when there, else the CPU (as --gpu_ids 0 everywhere); else a torch.device (or its name)."""
    if device is None:
        return device_for('0')
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise UserError(f"device {device}: CUDA is not available here; use torch.device('cpu')")
    if device.type not in ('cpu', 'cuda'):
        raise UserError(f"device {device}: use torch.device('cpu') or torch.device('cuda', N)")
    return device if device.type == 'cpu' or device.index is not None else torch.device('cuda', 0)


def device_for(gpu_ids_text):
    """The device of --gpu_ids as typed (see `device`)."""
    return device(parse_gpu_ids(gpu_ids_text))


def device(gpu_ids):
    """The device of a run with these GPU numbers (parsed --gpu_ids; [] for the CPU): CUDA when asked
    for and present, else the CPU (so '--gpu_ids 0' works on a laptop); under torchrun, this
    process's GPU among them. The one place a run's device is chosen."""
    if gpu_ids and torch.cuda.is_available():
        local_rank = int(os.environ.get('LOCAL_RANK', 0))
        return torch.device('cuda', gpu_ids[local_rank % len(gpu_ids)])
    return torch.device('cpu')


def peak_memory_mb(device):
    """The process's peak memory so far: CUDA's allocator peak on a GPU, the peak RSS on the CPU."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cuda_devices():
    """[{'name', 'capability', 'memory_gb', 'bf16'}] of the visible CUDA devices ([] without CUDA)."""
    if not torch.cuda.is_available():
        return []
    out = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        out.append({'name': p.name, 'capability': f'{p.major}.{p.minor}',
                    'memory_gb': round(p.total_memory / 2 ** 30, 1),
                    'bf16': p.major >= CUDA_BF16_MAJOR})
    return out


def compile_cache_per_isa():
    """Give torch.compile one kernel cache per ATEN_CPU_CAPABILITY. Inductor's shared cache (torch
    2.13) hands kernels built under e.g. ATEN_CPU_CAPABILITY=avx2 (docs/PERFORMANCE.md's AVX2
    emulation) to a later run without it, which aborts. An explicit TORCHINDUCTOR_CACHE_DIR is kept."""
    isa = os.environ.get('ATEN_CPU_CAPABILITY')
    if isa and 'TORCHINDUCTOR_CACHE_DIR' not in os.environ:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # a container's uid without a passwd entry
            user = f'uid_{os.getuid()}'
        os.environ['TORCHINDUCTOR_CACHE_DIR'] = os.path.join(tempfile.gettempdir(), f'torchinductor_{user}_{isa}')


def describe():
    """What the CPU (and GPU) can do, as a JSON-ready dict."""
    model, flags = read_cpuinfo()
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):
        capability = None
    return {'cpu': model or platform.processor() or platform.machine(),
            'isa': sorted(f for f in REPORTED_FLAGS if f in flags),
            'aten_capability': capability,  # the vector ISA ATen's kernels use (e.g. AVX2, AVX512)
            'onednn_max_isa': os.environ.get('ONEDNN_MAX_CPU_ISA') or os.environ.get('DNNL_MAX_CPU_ISA'),
            'cpu_bf16_native': _native(_onednn_bf16_probe, flags, BF16_FLAGS),
            'cpu_bf16_onednn': _onednn_bf16_probe(),
            'cpu_fp16_native': _native(_onednn_fp16_probe, flags, FP16_FLAGS),
            'torch_threads': torch.get_num_threads(),
            'cuda': cuda_devices()}


def summary(info=None):
    """describe() in one line, e.g.
    'CPU AMD EPYC (avx2 avx512_bf16 avx512f), bf16 native, fp16 no, 2 torch threads; no CUDA'."""
    d = info or describe()
    bf16 = 'native' if d['cpu_bf16_native'] else ('emulated' if d['cpu_bf16_onednn'] else 'no')
    isa = ' '.join(d['isa']) or 'flags unknown'
    line = f"CPU {d['cpu']} ({isa}), bf16 {bf16}, fp16 {'native' if d['cpu_fp16_native'] else 'no'}, " \
           f"{d['torch_threads']} torch threads"
    if d.get('onednn_max_isa'):
        line += f", ONEDNN_MAX_CPU_ISA={d['onednn_max_isa']}"
    gpus = [f"{g['name']} (sm {g['capability']}, {g['memory_gb']} GB)" for g in d['cuda']]
    return line + ('; CUDA ' + ', '.join(gpus) if gpus else '; no CUDA')
