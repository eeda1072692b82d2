"""scripts/benchmark.py runs end to end at tiny settings and reports the documented JSON fields."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ['--height', '32', '--width', '64', '--batchSize', '1', '--ngf', '4', '--ndf', '4', '--nhidden', '8',
        '--lbp_batch', '1', '--iters', '1', '--warmup', '0', '--no_lbp_compile', '--device', 'cpu', '--json']


def test_benchmark_json_has_positive_figures():
    run = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'), *TINY, '--compare'],
                         capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, 'OMP_NUM_THREADS': '1'})  # tiny ops: threads only add overhead
    r = json.loads(run.stdout)
    figures = [r['train']['seconds_per_iter'], r['train']['images_per_s'], r['inference']['images_per_s'],
               r['lbp']['ms_per_image_hard'], r['lbp']['ms_per_image_soft'], r['peak_memory_mb'],
               r['compare']['spade']['train']['seconds_per_iter'], r['compare']['ratio_ulbp_over_spade']]
    assert all(isinstance(x, float) and x > 0 for x in figures), figures
    assert r['lbp']['path'] == 'eager' and {'random', 'photo'} <= set(r['lbp']['eager'])
