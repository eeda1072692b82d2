"""Speed of a training iteration (G step + D step) and of inference, at each paper setting.

    python scripts/benchmark.py --dataset coco                      # ULBPGAN and SPADE, fp32 and fast
    python scripts/benchmark.py --dataset cityscapes --paths fp32,fast,compile --json
    python scripts/benchmark.py --dataset ade20k --device cuda --paths fp32,fast,fp16 --batchSize 8
--dataset sets the resolution, label channels and num_upsampling_layers as train.py's dataset
options do (cityscapes 256×512 / 36 channels / more; ade20k 256×256 / 151; coco 256×256 / 184).
Paths: fp32; fast = the fastest path this machine has: --amp bf16 --channels_last where bf16 is
native (a CPU with AVX512-BF16/AMX, a CUDA GPU of compute capability 8 or more), else whichever of
--channels_last and plain fp32 is faster in a 2-iteration probe (printed, and in the JSON's
fast_path); fp16 = --amp fp16 --channels_last (CUDA); compile = fast + --compile (its compile time
is reported apart). --label_convs as train.py's (auto: lookup on the CPU, dense on CUDA). Times are medians over --iters
after --warmup, with random data (no loader, no VGG). FLOPs per iteration are counted once by
torch.utils.flop_counter (convolutions and matrix products, forward and backward); "GFLOP/s" is
that count over the measured time. Ratios are against fp32 SPADE of the same run. The header and
the JSON's machine field say what the CPU and GPU can do (util/machine.py).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from data import random_batch  # noqa: E402
from models import prepare  # noqa: E402
from models.pix2pix_model import Pix2PixModel  # noqa: E402
from options.train_options import TrainOptions  # noqa: E402
from trainers.pix2pix_trainer import Pix2PixTrainer  # noqa: E402
from models.networks import label_convs  # noqa: E402
from util.allocator import keep_freed_memory  # noqa: E402
from util import machine  # noqa: E402
from util.errors import exit_on_user_error  # noqa: E402
from util.lbp import LBP  # noqa: E402

# 'fast' (and 'compile' = fast + --compile) are chosen per machine by fast_path().
PATHS = {'fp32': [], 'fast': None, 'fp16': ['--amp', 'fp16', '--channels_last'], 'compile': None}
MODELS = {'ulbp': 'ULBPGAN', 'spade': 'SPADE baseline'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', default='coco', choices=('cityscapes', 'ade20k', 'coco'))
    p.add_argument('--models', default='ulbp,spade', help='comma-separated: ulbp, spade')
    p.add_argument('--paths', default='fp32,fast', help=f"comma-separated: {', '.join(PATHS)}")
    p.add_argument('--batchSize', type=int, default=1)
    p.add_argument('--ngf', type=int, default=64)
    p.add_argument('--ndf', type=int, default=64)
    p.add_argument('--nhidden', type=int, default=128)
    p.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'), help="override the dataset's image size")
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu', choices=('cpu', 'cuda'))
    p.add_argument('--iters', type=int, default=3)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--lbp_batch', type=int, default=16, help='batch of 256×512 images for the LBP timing (0: skip)')
    p.add_argument('--label_convs', default='auto', choices=('auto', 'lookup', 'dense'),
                   help="label-map convolutions as lookups or as convs of the one-hot map (train.py's option)")
    p.add_argument('--profile', action='store_true',
                   help="profile one more iteration: the convolutions' share of the time and the top operators")
    p.add_argument('--json', action='store_true', help='print one JSON object instead of tables')
    args = p.parse_args(argv)
    for name, value, least in (('iters', args.iters, 1), ('warmup', args.warmup, 0), ('lbp_batch', args.lbp_batch, 0),
                               ('batchSize', args.batchSize, 1)):
        if value < least:
            p.error(f"--{name} {value}: must be at least {least}")
    if args.size and min(args.size) < 1:
        p.error(f"--size {' '.join(map(str, args.size))}: both sides must be at least 1")
    if args.device == 'cuda' and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device here; use --device cpu")
    for field, known in (('models', MODELS), ('paths', PATHS)):
        values = getattr(args, field).split(',')
        bad = [v for v in values if v not in known]
        if bad:
            p.error(f"--{field} {bad[0]}: choose from {', '.join(known)}")
        setattr(args, field, values)
    return args


def options(args, netG, path_args):
    argv = ['--dataset_mode', args.dataset, '--netG', netG, '--batchSize', str(args.batchSize),
            '--ngf', str(args.ngf), '--ndf', str(args.ndf), '--nhidden', str(args.nhidden), '--no_vgg_loss',
            '--gpu_ids', '0' if args.device == 'cuda' else '-1', '--checkpoints_dir', tempfile.gettempdir(),
            '--label_convs', args.label_convs]
    if args.size:
        h, w = args.size
        argv += ['--crop_size', str(w), '--load_size', str(w), '--aspect_ratio', str(w / h)]
    options = TrainOptions()
    return options.resolve(options.parse(argv + path_args))


def path_args(args, path):
    """train.py's options of a path; fast and compile use the path fast_path() chose."""
    if path == 'fast':
        return list(args.fast['options'])
    if path == 'compile':
        return list(args.fast['options']) + ['--compile']
    return PATHS[path]


def fast_path(args, probe_iters=2):
    """{'options': [...], 'why': str, 'probe_seconds': {...}}: bf16 + channels_last where bf16 is native,
    else the faster of fp32 + channels_last and plain fp32 over probe_iters iterations each (the
    quicker of those iterations counts: the first one also warms up)."""
    device = machine.as_device(args.device)
    if machine.native_bf16(device):
        return {'options': list(machine.FAST_OPTIONS),
                'why': f'bf16 is native on this {"GPU" if device.type == "cuda" else "CPU"}',
                'probe_seconds': None}
    netG = args.models[0]
    probe = {}
    for name, extra in (('fp32 + channels_last', ['--channels_last']), ('fp32', [])):
        step = setup(args, netG, extra)[-1]
        probe[name] = min(seconds(step, device) for _ in range(probe_iters))
    best = min(probe, key=probe.get)
    return {'options': ['--channels_last'] if best == 'fp32 + channels_last' else [],
            'why': f'bf16 is not native here; {best} was faster in a {probe_iters}-iteration probe of '
                   f'{MODELS[netG]} (' + ', '.join(f'{k} {v:.3f} s' for k, v in probe.items()) + ')',
            'probe_seconds': probe}


def seconds(fn, device):
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    sync()
    tick = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - tick


def median_seconds(fn, iters, warmup, device):
    """(median wall time of fn() over iters calls, total time of the warmup calls)."""
    first = sum(seconds(fn, device) for _ in range(warmup))
    return statistics.median(seconds(fn, device) for _ in range(iters)), first


def setup(args, netG, extra):
    """(opt, model, trainer, data, step) for train.py's options + extra; step() is one training iteration."""
    torch.manual_seed(0)
    opt = options(args, netG, extra)
    if opt.compile:
        torch.compiler.reset()  # each run compiles from scratch: its warm-up is its own
    model = Pix2PixModel.from_options(opt).to(opt.device)
    trainer = Pix2PixTrainer(opt, model)
    prepare(model, opt)
    data = random_batch(opt, opt.batchSize, device=opt.device)
    return opt, model, trainer, data, lambda: trainer.train_one_iteration(data)


def bench(args, netG, path):
    if args.device == 'cuda':
        torch.cuda.reset_peak_memory_stats()  # each run's own peak (the CPU's peak RSS cannot be reset)
    opt, model, trainer, data, step = setup(args, netG, path_args(args, path))
    train, warm = median_seconds(step, args.iters, args.warmup, opt.device)
    with trainer.autocast():
        infer, _ = median_seconds(lambda: model.generate(data), args.iters, args.warmup, opt.device)
    flops = None
    if not opt.compile:  # the counter sees through eager modules only
        with FlopCounterMode(display=False) as counter:
            step()
        flops = counter.get_total_flops()
    n = opt.batchSize
    out = {'model': netG, 'path': path, 'options': ' '.join(path_args(args, path)) or 'plain fp32',
           'semantic_nc': model.config.semantic_nc, 'size': [n, *data['image'].shape[-2:]],
           'seconds_per_iter': train, 'train_images_per_s': n / train, 'inference_images_per_s': n / infer,
           'gflop_per_iter': flops / 1e9 if flops else None, 'gflop_per_s': flops / 1e9 / train if flops else None}
    if opt.device.type == 'cuda':
        out['peak_memory_mb'] = machine.peak_memory_mb(opt.device)
    if opt.compile:
        out['warmup_seconds'] = warm  # compiling happens in the warmup iterations
    if args.profile:
        out['profile'] = profile(step, opt.device)
    return out


CONV_OPS = ('aten::mkldnn_convolution', 'aten::convolution_backward', 'aten::_slow_conv2d_forward',
            'aten::_slow_conv2d_backward', 'aten::cudnn_convolution', 'aten::_convolution_backward')


def profile(fn, device):
    """One call of fn under torch.profiler -> the convolutions' share of the operators' own time
    and the 5 operators with the most own time (CPU time, or CUDA kernel time on a GPU)."""
    from torch.profiler import ProfilerActivity
    cuda = device.type == 'cuda'
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with torch.profiler.profile(activities=acts) as prof:
        seconds(fn, device)
    own = {e.key: (e.self_device_time_total if cuda else e.self_cpu_time_total) for e in prof.key_averages()}
    total = sum(own.values())
    top = sorted(own.items(), key=lambda kv: -kv[1])[:5]
    return {'conv_share': sum(own.get(k, 0) for k in CONV_OPS) / total,
            'top_ops': {k: v / total for k, v in top}}


def photo(n, device):
    """skimage's astronaut resized to 256×512, in [-1, 1], repeated n times."""
    from skimage import data, transform
    img = transform.resize(data.astronaut(), (256, 512), anti_aliasing=True)
    img = np.round(img * 255) / 127.5 - 1
    return torch.from_numpy(img).float().permute(2, 0, 1)[None].repeat(n, 1, 1, 1).contiguous().to(device)


def bench_lbp(args, device):
    """ms per 256×512 image of the default LBP operator, eager and compiled, on a photo."""
    x, out = photo(args.lbp_batch, device), {}

    def timed(op, prefix):
        for kind in ('hard', 'differentiable'):
            t, _ = median_seconds(lambda: getattr(op, kind)(x), 3, 1, device)
            out[f"{prefix}_{kind}_ms_per_image"] = 1000 * t / args.lbp_batch
    timed(LBP(), 'eager')
    try:
        timed(LBP(compile=True), 'compiled')
    except Exception as e:  # no C++ compiler / Triton: report eager only
        out['compiled_error'] = f'{type(e).__name__}: {e}'.splitlines()[0]
    return out


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    keep_freed_memory(device)  # as train.py does
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu x{torch.get_num_threads()}'
    info = machine.describe()
    args.fast = fast_path(args) if {'fast', 'compile'} & set(args.paths) else None
    if args.fast:  # (stderr: stdout is the table or the JSON, which record it too)
        print(f"fast path: {' '.join(args.fast['options']) or 'plain fp32'} ({args.fast['why']})", file=sys.stderr)
    runs = [bench(args, m, p) for m in args.models for p in args.paths]
    base = next((r for r in runs if r['model'] == 'spade' and r['path'] == 'fp32'), None)
    for r in runs:
        r['ratio_to_fp32_spade'] = r['seconds_per_iter'] / base['seconds_per_iter'] if base else None
    fast = args.fast
    del args.fast  # reported on its own, not as an option
    resolved = label_convs(argparse.Namespace(label_convs=args.label_convs, device=device))
    result = {'config': vars(args), 'device': name, 'machine': info, 'label_convs': resolved,
              'fast_path': None if fast is None else {**fast, 'options': ' '.join(fast['options']) or 'plain fp32'},
              'runs': runs, 'peak_memory_mb': max([machine.peak_memory_mb(device)] + [r.get('peak_memory_mb', 0)
                                                                              for r in runs])}
    if args.lbp_batch:
        result['lbp'] = bench_lbp(args, device)
    print(json.dumps(result, indent=1) if args.json else table(result))
    return result


def table(r):
    n, h, w = r['runs'][0]['size']
    c = r['config']
    rows = [f"{c['dataset']}: {h}×{w}, {r['runs'][0]['semantic_nc']} label channels, batch {n}, ngf {c['ngf']}, "
            f"nhidden {c['nhidden']}, label convs {r['label_convs']}, on {r['device']}",
            f"machine: {machine.summary(r['machine'])}"]
    if r['fast_path']:
        rows.append(f"fast = {r['fast_path']['options']} ({r['fast_path']['why']})")
    rows += ['', '| model | path | s/iter | train img/s | inference img/s | GFLOP/iter | GFLOP/s | × fp32 SPADE |',
             '| --- | --- | --- | --- | --- | --- | --- | --- |']
    fmt = lambda v, spec: '–' if v is None else format(v, spec)
    for x in r['runs']:
        path = x['path'] + (f" (warm-up {x['warmup_seconds']:.0f} s)" if 'warmup_seconds' in x else '')
        rows.append(f"| {MODELS[x['model']]} | {path} | {x['seconds_per_iter']:.3f} | {x['train_images_per_s']:.2f} | "
                    f"{x['inference_images_per_s']:.2f} | {fmt(x['gflop_per_iter'], '.1f')} | "
                    f"{fmt(x['gflop_per_s'], '.0f')} | {fmt(x['ratio_to_fp32_spade'], '.2f')} |")
    for x in r['runs']:
        if 'profile' in x:
            p = x['profile']
            rows.append(f"profile, {MODELS[x['model']]} {x['path']}: convolutions {100 * p['conv_share']:.0f} %; top: " +
                        ', '.join(f'{k} {100 * v:.0f} %' for k, v in p['top_ops'].items()))
    if 'lbp' in r:
        rows.append('\nLBP (classic), 256×512 photo, ms/image: ' +
                    ', '.join(f'{k[:-13]} {v:.2f}' if isinstance(v, float) else f'{k}: {v}' for k, v in r['lbp'].items()))
    rows.append(f"peak memory: {r['peak_memory_mb']:.0f} MB")
    return '\n'.join(rows)


if __name__ == '__main__':
    exit_on_user_error(main)
