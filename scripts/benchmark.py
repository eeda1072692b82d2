"""Speed of ULBPGAN: a training iteration (G step + D step), inference, the LBP operator, peak memory.

    python scripts/benchmark.py                                    # 256×512, batch 1, ngf 64, this machine
    python scripts/benchmark.py --height 128 --width 256 --compare # ULBPGAN vs the SPADE baseline
    python scripts/benchmark.py --device cuda --amp bf16 --compile --channels_last --json
Times are medians over --iters after --warmup. The LBP operator is timed at 256×512 (batch
--lbp_batch), eager and torch.compile'd, on random images and on a natural photo (skimage's
astronaut), whose many sloped ties take the exact (slow) path.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import util.distributed as distributed  # noqa: E402
import util.lbp as lbp  # noqa: E402
from models import create_model  # noqa: E402
from options.train_options import TrainOptions  # noqa: E402
from trainers.pix2pix_trainer import Pix2PixTrainer  # noqa: E402

LBP_SIZE = (256, 512)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--netG', default='ulbp', choices=('ulbp', 'spade'))
    p.add_argument('--height', type=int, default=256)
    p.add_argument('--width', type=int, default=512)
    p.add_argument('--batchSize', type=int, default=1)
    p.add_argument('--ngf', type=int, default=64)
    p.add_argument('--ndf', type=int, default=64)
    p.add_argument('--nhidden', type=int, default=128)
    p.add_argument('--label_nc', type=int, default=35)
    p.add_argument('--amp', default='none', choices=('none', 'bf16', 'fp16'))
    p.add_argument('--compile', action='store_true', help='torch.compile the networks (and the LBP ops)')
    p.add_argument('--channels_last', action='store_true')
    p.add_argument('--vgg', action='store_true', help='include the VGG loss (needs --vgg_weights)')
    p.add_argument('--vgg_weights', default='')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu', choices=('cpu', 'cuda'))
    p.add_argument('--iters', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--lbp_batch', type=int, default=16)
    p.add_argument('--no_lbp_compile', action='store_true', help='time the eager LBP ops only')
    p.add_argument('--compare', action='store_true', help='also run --netG spade; print the ulbp/spade ratio')
    p.add_argument('--json', action='store_true', help='print one JSON object instead of a table')
    return p.parse_args(argv)


def options(args, netG):
    argv = ['--dataset_mode', 'cityscapes', '--netG', netG, '--label_nc', str(args.label_nc),
            '--crop_size', str(args.width), '--load_size', str(args.width),
            '--aspect_ratio', str(args.width / args.height), '--batchSize', str(args.batchSize),
            '--ngf', str(args.ngf), '--ndf', str(args.ndf), '--nhidden', str(args.nhidden), '--amp', args.amp,
            '--gpu_ids', '0' if args.device == 'cuda' else '-1', '--checkpoints_dir', tempfile.gettempdir()]
    argv += ['--vgg_weights', args.vgg_weights] if args.vgg else ['--no_vgg_loss']
    argv += ['--compile'] * args.compile + ['--channels_last'] * args.channels_last
    return TrainOptions().parse(argv)


def random_batch(opt, device):
    n, h, w = opt.batchSize, round(opt.crop_size / opt.aspect_ratio), opt.crop_size
    values = opt.label_nc + int(opt.contain_dontcare_label)
    return {'label': torch.randint(0, values, (n, 1, h, w), device=device),
            'instance': torch.randint(0, 8, (n, 1, h, w), device=device),
            'image': torch.rand(n, 3, h, w, device=device) * 2 - 1, 'path': ['x.png'] * n}


def median_seconds(fn, iters, warmup, device):
    """Median wall time of fn() over iters calls, after warmup calls."""
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        sync()
        tick = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - tick)
    return statistics.median(times)


def bench_model(args, netG):
    torch.manual_seed(0)
    opt = options(args, netG)
    model = create_model(opt).to(opt.device)
    trainer = Pix2PixTrainer(opt, model)
    distributed.wrap_networks(model, opt)
    lbp.compile_lbp(opt.compile)  # as train.py does
    data = random_batch(opt, opt.device)
    n = opt.batchSize
    train = median_seconds(lambda: trainer.train_one_iteration(data), args.iters, args.warmup, opt.device)
    with trainer.autocast():
        infer = median_seconds(lambda: model(data, 'inference'), args.iters, args.warmup, opt.device)
    lbp.compile_lbp(False)
    params = sum(p.numel() for p in model.generator_parameters()) / 1e6
    return {'train': {'seconds_per_iter': train, 'images_per_s': n / train},
            'inference': {'seconds_per_batch': infer, 'images_per_s': n / infer}, 'G_params_M': params}


def photo(n, device):
    """skimage's astronaut resized to 256×512, in [-1, 1], repeated n times."""
    from skimage import data, transform
    img = transform.resize(data.astronaut(), LBP_SIZE, anti_aliasing=True)  # float in [0, 1]
    img = np.round(img * 255) / 127.5 - 1
    return torch.from_numpy(img).float().permute(2, 0, 1)[None].repeat(n, 1, 1, 1).contiguous().to(device)


def bench_lbp(args, device):
    n, (h, w) = args.lbp_batch, LBP_SIZE
    images = {'random': torch.rand(n, 3, h, w, device=device) * 2 - 1, 'photo': photo(n, device)}
    iters, warmup = max(args.iters, 3), max(args.warmup, 1)
    out = {}
    for path in ('eager',) if args.no_lbp_compile else ('eager', 'compiled'):
        try:
            lbp.compile_lbp(path == 'compiled')
            for name, x in images.items():
                for kind, fn in (('hard', lbp.lbp_hard), ('soft', lbp.lbp_soft)):
                    t = median_seconds(lambda: fn(x), iters, warmup, device)
                    out.setdefault(path, {}).setdefault(name, {}).update(
                        {f'ms_per_image_{kind}': 1000 * t / n, f'mpix_per_s_{kind}': n * h * w / t / 1e6})
        except Exception as e:  # no C++ compiler / Triton: report eager only
            out.pop(path, None)
            out[f'{path}_error'] = f'{type(e).__name__}: {e}'.splitlines()[0]
        finally:
            lbp.compile_lbp(False)
    best = 'compiled' if 'compiled' in out else 'eager'
    return {**out[best]['photo'], 'path': best, 'image': 'photo', 'size': [n, h, w], **out}


def peak_memory_mb(device):
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    result = {'config': {k: v for k, v in vars(args).items() if k not in ('json',)},
              'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu x{torch.get_num_threads()}'}
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    result.update(bench_model(args, args.netG))
    if args.compare:
        other = 'spade' if args.netG == 'ulbp' else 'ulbp'
        result['compare'] = {other: bench_model(args, other)}
        ulbp = result if args.netG == 'ulbp' else result['compare']['ulbp']
        spade = result['compare']['spade'] if args.netG == 'ulbp' else result
        result['compare']['ratio_ulbp_over_spade'] = ulbp['train']['seconds_per_iter'] / spade['train']['seconds_per_iter']
    result['lbp'] = bench_lbp(args, device)
    result['peak_memory_mb'] = peak_memory_mb(device)
    print(json.dumps(result, indent=1) if args.json else table(result, args))
    return result


def table(r, args):
    rows = [f"{args.netG} {args.height}x{args.width} batch {args.batchSize} ngf {args.ngf} nhidden {args.nhidden} "
            f"amp {args.amp}{' compile' * args.compile}{' channels_last' * args.channels_last} on {r['device']}",
            f"{'':24}{'s/iter':>10}{'train img/s':>13}{'infer img/s':>13}"]
    models = {args.netG: r, **{k: v for k, v in r.get('compare', {}).items() if isinstance(v, dict)}}
    for name, m in models.items():
        rows.append(f"{name:24}{m['train']['seconds_per_iter']:10.3f}{m['train']['images_per_s']:13.2f}"
                    f"{m['inference']['images_per_s']:13.2f}")
    if 'compare' in r:
        rows.append(f"ratio ulbp/spade s/iter: {r['compare']['ratio_ulbp_over_spade']:.2f}")
    n, h, w = r['lbp']['size']
    rows.append(f"LBP {h}x{w} batch {n}{'':8}{'hard ms/img':>12}{'hard MP/s':>11}{'soft ms/img':>12}{'soft MP/s':>11}")
    for path in ('eager', 'compiled'):
        for img, v in r['lbp'].get(path, {}).items():
            rows.append(f"  {path + ' ' + img:24}{v['ms_per_image_hard']:12.3f}{v['mpix_per_s_hard']:11.1f}"
                        f"{v['ms_per_image_soft']:12.3f}{v['mpix_per_s_soft']:11.1f}")
        if f'{path}_error' in r['lbp']:
            rows.append(f"  {path}: {r['lbp'][path + '_error']}")
    rows.append(f"peak memory: {r['peak_memory_mb']:.0f} MB")
    return '\n'.join(rows)


if __name__ == '__main__':
    main()
