"""util/allocator.py: freed CPU feature maps are reused, not handed back and faulted in again."""
import os
import platform
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = """
import resource, sys, torch
from util.allocator import keep_freed_memory
print(keep_freed_memory() if sys.argv[1] == 'tuned' else 'plain')
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
torch.empty(2 ** 24).fill_(1)  # a 64 MiB map, freed at once
before = faults()
torch.empty(2 ** 24).fill_(1)  # the next one of the same size
print(faults() - before)
"""


def probe(mode):
    out = subprocess.run([sys.executable, '-c', PROBE, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    status, faults = out.stdout.split()
    return status, int(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='glibc only')
def test_a_freed_64_mib_map_is_reused_without_page_faults():
    status, faults = probe('tuned')
    assert status == 'True'
    assert faults < 200  # 64 MiB of fresh 4 KiB pages would be 16384 faults
