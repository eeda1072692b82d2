"""scripts/benchmark.py runs end to end at tiny settings and reports the documented JSON fields."""
import json
import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ['--dataset', 'coco', '--size', '64', '64', '--ngf', '4', '--ndf', '4', '--nhidden', '8', '--lbp_batch', '0',
        '--iters', '1', '--warmup', '0', '--device', 'cpu', '--json']


@pytest.mark.slow
def test_benchmark_json_has_positive_figures():
    run = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'), *TINY, '--paths', 'fp32,fast'],
                         capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, 'OMP_NUM_THREADS': '1'})  # tiny ops: threads only add overhead
    r = json.loads(run.stdout)
    assert [(x['model'], x['path']) for x in r['runs']] == [('ulbp', 'fp32'), ('ulbp', 'fast'), ('spade', 'fp32'),
                                                            ('spade', 'fast')]
    for x in r['runs']:
        figures = [x['seconds_per_iter'], x['train_images_per_s'], x['inference_images_per_s'], x['gflop_per_iter'],
                   x['gflop_per_s'], x['ratio_to_fp32_spade']]
        assert all(isinstance(v, float) and v > 0 for v in figures), x
        assert x['semantic_nc'] == 184 and x['size'] == [1, 64, 64]  # COCO: 182 + don't care + edges
    flops = {(x['model'], x['path']): x['gflop_per_iter'] for x in r['runs']}
    assert flops['ulbp', 'fp32'] > flops['spade', 'fp32']  # G_L, D_L and the LBP branches add work
    assert r['runs'][2]['ratio_to_fp32_spade'] == 1.0 and r['peak_memory_mb'] > 0


def test_benchmark_refuses_unknown_path():
    run = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'), '--paths', 'fp8'],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and '--paths fp8' in run.stderr


def test_benchmark_profile_reports_the_convolutions_share(capsys):
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    import benchmark
    r = benchmark.main(TINY + ['--models', 'spade', '--paths', 'fp32', '--profile'])
    p = r['runs'][0]['profile']
    assert 0 < p['conv_share'] < 1
    assert len(p['top_ops']) == 5 and 0 < sum(p['top_ops'].values()) <= 1 + 1e-9
    assert json.loads(capsys.readouterr().out)['runs'][0]['profile'] == p  # --json prints it too


@pytest.mark.parametrize('args, message', [(['--size', '0', '0'], '--size 0 0: both sides'),
                                           (['--iters', '0'], '--iters 0: must be at least 1'),
                                           (['--lbp_batch', '-1'], '--lbp_batch -1: must be at least 0')])
def test_benchmark_refuses_bad_numbers_in_one_line(args, message, capsys):
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    import benchmark
    with pytest.raises(SystemExit) as exit_:
        benchmark.parse_args(args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_benchmark_reports_a_user_error_without_a_traceback():
    run = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'), *TINY, '--paths', 'fp16',
                          '--device', 'cpu'], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and 'Traceback' not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == 'error: --amp fp16 needs CUDA; use --amp bf16 or none on the CPU'


def test_benchmark_times_both_lbp_maps(monkeypatch):
    # The LBP timing calls the operator's real methods (it once asked for a removed one and
    # reported the AttributeError as a compile failure).
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    import benchmark
    monkeypatch.setattr(benchmark, 'photo', lambda n, device: torch.rand(n, 3, 16, 32) * 2 - 1)
    eager_only = benchmark.LBP
    monkeypatch.setattr(benchmark, 'LBP', lambda compile=False: eager_only())  # no compiling in a unit test
    out = benchmark.bench_lbp(benchmark.parse_args(['--lbp_batch', '1']), torch.device('cpu'))
    assert 'compiled_error' not in out
    for prefix in ('eager', 'compiled'):
        for kind in ('hard', 'differentiable'):
            assert out[f'{prefix}_{kind}_ms_per_image'] > 0
