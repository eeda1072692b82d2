"""Keep freed CPU memory in the process instead of handing it back to the OS.

glibc serves blocks above its mmap threshold (at most 32 MiB) with fresh mmap()s and unmaps
them on free, so every new feature map of that size (a 128×256×256 fp32 map is 32 MiB) starts
as untouched pages, and the first write faults each 4 KiB page in. On this project's 2-core VM
that made an out-of-place ReLU of such a map 10 ms instead of 1.6 ms, and a CPU training
iteration spent a large share of its time in page faults (a profile of one iteration showed it). With mmap off
and trimming off, freed blocks are reused from the heap: once the heap has grown to a step's
peak (a few steps), later steps fault no page in. The process keeps its peak memory.
"""
import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX = -1, -2, -4  # mallopt parameters, <malloc.h>


def keep_freed_memory(device):
    """Tune glibc's malloc as above when the networks run on the CPU (device: torch.device);
    False (and no change) on an accelerator or where there is no glibc."""
    if device.type != 'cpu' or not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other libcs: leave the allocator alone
        return False
    return all(mallopt(param, value) == 1 for param, value in
               ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2 ** 31 - 1), (_M_TOP_PAD, 64 << 20)))
