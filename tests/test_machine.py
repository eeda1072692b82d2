"""util/machine.py (what the CPU can do), the bf16 refusal of --amp, and the benchmark's fast path
chosen from it. The bf16 probe and /proc/cpuinfo are replaced, so every case runs on any CPU."""
import os
import sys

import pytest
import torch

from conftest import NO_CHECKPOINTS, resolved, tiny_opt
from options.train_options import TrainOptions
from util import amp, machine
from util.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZEN4 = ('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9454\n'
        'flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_bf16 avx512_vnni\n\nprocessor\t: 1\n'
        'model name\t: AMD EPYC 9454\nflags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_bf16 avx512_vnni\n')
SKYLAKE = 'model name\t: Intel(R) Xeon(R) Gold 6148\nflags\t\t: fpu sse2 avx avx2 avx512f avx512bw\n'
SAPPHIRE = ('model name\t: Intel(R) Xeon(R) Platinum 8480+\n'
            'flags\t\t: avx2 avx512f avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8\n')
HASWELL = 'model name\t: Intel(R) Xeon(R) E5-2680 v3\nflags\t\t: fpu sse2 avx avx2 fma\n'


@pytest.fixture
def fake_cpu(tmp_path, monkeypatch):
    """fake_cpu(cpuinfo text or None, probe answer): the machine module sees that CPU."""
    def use(cpuinfo, probe):
        path = tmp_path / 'cpuinfo'
        if cpuinfo is None:
            path = tmp_path / 'missing'
        else:
            path.write_text(cpuinfo)
        monkeypatch.setattr(machine, 'CPUINFO', str(path))
        monkeypatch.setattr(machine, '_onednn_bf16_probe', lambda: probe)
        monkeypatch.setattr(machine, '_onednn_fp16_probe', lambda: probe and 'avx512_fp16' in (cpuinfo or ''))
        machine.cpu_has_bf16.cache_clear()
    yield use
    machine.cpu_has_bf16.cache_clear()


@pytest.mark.parametrize('cpuinfo, probe, native, shown', [
    (ZEN4, True, True, 'bf16 native'),            # AVX512-BF16
    (SAPPHIRE, True, True, 'bf16 native'),        # AMX
    (SKYLAKE, True, False, 'bf16 emulated'),      # oneDNN takes bf16 on any AVX-512 CPU, in software
    (ZEN4, False, False, 'bf16 no'),              # e.g. ONEDNN_MAX_CPU_ISA=AVX2 on a Zen 4
    (HASWELL, False, False, 'bf16 no'),
    (None, True, True, 'flags unknown'),          # no /proc/cpuinfo: the probe decides
])
def test_bf16_detection_from_the_probe_and_the_cpu_flags(fake_cpu, cpuinfo, probe, native, shown):
    fake_cpu(cpuinfo, probe)
    assert machine.cpu_has_bf16() is native
    info = machine.describe()
    assert info['cpu_bf16_native'] is native and info['cpu_bf16_onednn'] is probe
    assert info['torch_threads'] == torch.get_num_threads() and isinstance(info['cuda'], list)
    assert shown in machine.summary(info)


def test_describe_names_the_cpu_and_its_isa(fake_cpu):
    fake_cpu(SAPPHIRE, True)
    info = machine.describe()
    assert info['cpu'] == 'Intel(R) Xeon(R) Platinum 8480+'
    assert info['isa'] == ['amx_bf16', 'amx_tile', 'avx2', 'avx512_bf16', 'avx512_fp16', 'avx512f']
    assert info['cpu_fp16_native'] is True
    line = machine.summary(info)
    assert line.startswith('CPU Intel(R) Xeon(R) Platinum 8480+ (amx_bf16 amx_tile avx2') and 'fp16 native' in line
    fake_cpu(ZEN4, True)
    assert machine.describe()['isa'] == ['avx2', 'avx512_bf16', 'avx512f']
    assert machine.read_cpuinfo(machine.CPUINFO)[0] == 'AMD EPYC 9454'  # the first processor's


def test_cuda_devices_are_listed_with_name_and_capability(monkeypatch):
    class Props:
        name, major, minor, total_memory = 'NVIDIA H100 80GB HBM3', 9, 0, 80 * 2 ** 30
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1)
    monkeypatch.setattr(torch.cuda, 'get_device_properties', lambda i: Props)
    assert machine.cuda_devices() == [{'name': 'NVIDIA H100 80GB HBM3', 'capability': '9.0', 'memory_gb': 80.0,
                                       'bf16': True}]
    info = {**machine.describe(), 'cuda': machine.cuda_devices()}
    assert machine.summary(info).endswith('; CUDA NVIDIA H100 80GB HBM3 (sm 9.0, 80.0 GB)')


def test_the_demo_takes_its_bf16_default_from_the_machine_module(monkeypatch, capsys):
    import data.demo_dataset as demo
    assert not hasattr(demo, 'cpu_has_bf16') and not hasattr(demo, 'cpu_run')  # one place: util/machine.py
    args = ['--gpu_ids', '-1', '--checkpoints_dir', NO_CHECKPOINTS]
    monkeypatch.setattr(machine, 'cpu_has_bf16', lambda: True)
    assert resolved(TrainOptions(), args).amp == 'bf16'
    monkeypatch.setattr(machine, 'cpu_has_bf16', lambda: False)
    assert resolved(TrainOptions(), args).amp == 'none'


def test_bf16_on_a_cpu_that_emulates_it_stops_unless_forced(fake_cpu):
    fake_cpu(SKYLAKE, True)
    with pytest.raises(UserError) as e:
        tiny_opt('--amp', 'bf16')  # refused as the options are resolved
    message = str(e.value)
    assert 'emulated' in message and 'many times slower' in message and '--amp none' in message
    assert '--force_amp' in message and '\n' not in message
    with amp.autocast(tiny_opt('--amp', 'bf16', '--force_amp')):
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16 and torch.is_autocast_enabled('cpu')
    with amp.autocast(tiny_opt('--amp', 'none')):  # fp32 needs nothing
        assert not torch.is_autocast_enabled('cpu')
    fake_cpu(ZEN4, True)
    with amp.autocast(tiny_opt('--amp', 'bf16')):
        assert torch.is_autocast_enabled('cpu')


def test_train_py_refuses_emulated_bf16_before_building_the_dataset(fake_cpu, demo_city, tmp_path, monkeypatch):
    import data
    import train
    fake_cpu(HASWELL, False)
    monkeypatch.setattr(data, 'create_dataloader', lambda opt: pytest.fail('the dataset was built'))
    args = ['--dataset_mode', 'cityscapes', '--dataroot', demo_city, '--checkpoints_dir', str(tmp_path),
            '--crop_size', '64', '--load_size', '64', '--num_upsampling_layers', 'normal', '--ngf', '4', '--ndf', '4',
            '--nhidden', '8', '--batchSize', '2', '--nThreads', '0', '--gpu_ids', '-1', '--no_vgg_loss', '--no_tf_log',
            '--max_iters', '1', '--amp', 'bf16']
    with pytest.raises(UserError, match='--amp bf16: oneDNN does not run bf16 natively here'):
        train.main(args)
    assert not (tmp_path / 'demo' / 'latest.pth').exists()


def test_amp_help_says_where_each_precision_runs(capsys):
    with pytest.raises(SystemExit):
        TrainOptions().parse(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert 'mixed precision on CUDA' not in text
    assert 'bf16 on CUDA or on a CPU with bf16 units' in text and '--force_amp' in text


# ---------------------------------------------------------------- the benchmark's fast path

sys.path.insert(0, os.path.join(ROOT, 'scripts'))
TINY = ['--dataset', 'coco', '--size', '64', '64', '--ngf', '4', '--ndf', '4', '--nhidden', '8', '--lbp_batch', '0',
        '--iters', '1', '--warmup', '0', '--device', 'cpu', '--json']


def test_fast_path_is_bf16_where_native(monkeypatch):
    import benchmark
    monkeypatch.setattr(machine, 'cpu_has_bf16', lambda: True)
    fast = benchmark.fast_path(benchmark.parse_args(TINY))
    assert fast['options'] == ['--amp', 'bf16', '--channels_last'] and 'native' in fast['why']
    assert fast['probe_seconds'] is None


def test_fast_path_without_native_bf16_is_the_faster_fp32_layout_and_is_recorded(monkeypatch, capsys):
    import benchmark
    monkeypatch.setattr(machine, 'cpu_has_bf16', lambda: False)
    probed = []
    real_setup = benchmark.setup

    def setup(args, netG, extra):
        opt, model, trainer, data, step = real_setup(args, netG, extra)
        probed.append(extra)
        assert opt.amp == 'none'  # the probe never tries bf16 here
        return opt, model, trainer, data, step
    monkeypatch.setattr(benchmark, 'setup', setup)
    times = iter([5.0, 3.0, 2.0, 4.0])  # channels_last: 5 then 3; plain: 2 then 4 -> plain (2 < 3)
    monkeypatch.setattr(benchmark, 'seconds', lambda fn, device: next(times))
    fast = benchmark.fast_path(benchmark.parse_args(TINY + ['--models', 'spade']))
    assert probed == [['--channels_last'], []]
    assert fast['options'] == [] and fast['probe_seconds'] == {'fp32 + channels_last': 3.0, 'fp32': 2.0}
    assert 'fp32 was faster in a 2-iteration probe of SPADE baseline' in fast['why']
    monkeypatch.undo()

    # end to end: the choice is printed and in the JSON, and the fast run used it
    monkeypatch.setattr(machine, 'cpu_has_bf16', lambda: False)
    monkeypatch.setattr(benchmark, 'fast_path', lambda args, probe_iters=2: {
        'options': ['--channels_last'], 'why': 'bf16 is not native here; probed', 'probe_seconds': {}})
    r = benchmark.main(TINY + ['--models', 'spade', '--paths', 'fast'])
    assert r['fast_path']['options'] == '--channels_last' and r['runs'][0]['options'] == '--channels_last'
    assert r['machine']['cpu_bf16_native'] == machine.describe()['cpu_bf16_native'] and r['label_convs'] == 'lookup'
    assert 'fast path: --channels_last (bf16 is not native here; probed)' in capsys.readouterr().err


def test_compile_cache_is_kept_apart_per_aten_capability(monkeypatch):
    # Kernels inductor caches under ATEN_CPU_CAPABILITY=avx2 abort a later run without it (torch 2.13).
    monkeypatch.setenv('TORCHINDUCTOR_CACHE_DIR', 'x')  # restored after the test
    monkeypatch.delenv('TORCHINDUCTOR_CACHE_DIR')
    monkeypatch.delenv('ATEN_CPU_CAPABILITY', raising=False)
    machine.compile_cache_per_isa()
    assert 'TORCHINDUCTOR_CACHE_DIR' not in os.environ  # inductor's own default
    monkeypatch.setenv('ATEN_CPU_CAPABILITY', 'avx2')
    machine.compile_cache_per_isa()
    assert os.environ['TORCHINDUCTOR_CACHE_DIR'].endswith('_avx2')
    monkeypatch.setenv('TORCHINDUCTOR_CACHE_DIR', '/my/cache')
    machine.compile_cache_per_isa()
    assert os.environ['TORCHINDUCTOR_CACHE_DIR'] == '/my/cache'
