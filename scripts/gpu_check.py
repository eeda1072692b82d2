"""The steps of scripts/gpu_check.sh that need Python: run one step and record its figures, then
write the markdown table. Each step appends one JSON line to ROWS (a .jsonl file).

    python scripts/gpu_check.py train ROWS LABEL -- <train.py options>   # also under torchrun
    python scripts/gpu_check.py test ROWS LABEL -- <test.py options>
    python scripts/gpu_check.py bench ROWS LABEL -- <scripts/benchmark.py options>
    python scripts/gpu_check.py skip ROWS LABEL "why"
    python scripts/gpu_check.py table ROWS OUT.md [--title TEXT]

train: img/s is the median of the rates train.py logs in loss_log.txt (iteration 1, the warm-up, left
out), s/iter is batch × processes / that; test: images / wall time (start-up included); bench: one row
per model and path of benchmark.py's JSON, with lookup ÷ dense of the same model and path. Peak
memory: torch.cuda.max_memory_allocated on CUDA, the process's peak RSS on the CPU. A failing step is
a row saying so, and the exit status is 1, so that the other steps still run.
"""
import json
import os
import re
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402

from util import machine  # noqa: E402


def peak_memory_mb():
    """The step's process peak: on the GPU it used, if it used one."""
    used_cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    return machine.peak_memory_mb(torch.device('cuda' if used_cuda else 'cpu'))


def logged_rates(log_path):
    """[(iteration, img/s)] of the loss_log.txt lines written by this run (after its last header)."""
    text = open(log_path).read().split('================ training')[-1]
    return [(int(m.group(1)), float(m.group(2)))
            for m in re.finditer(r'iters: (\d+), img/s: ([0-9.]+)', text)]


def device_name(opt):
    if opt.device.type == 'cuda':
        return torch.cuda.get_device_name(opt.device)
    return f'cpu x{torch.get_num_threads()}'


def precision(opt):
    return (opt.amp if opt.amp != 'none' else 'fp32') + (' channels_last' if opt.channels_last else '')


def run_train(args):
    import train
    from models.networks import label_convs
    from options.train_options import TrainOptions
    options = TrainOptions()
    opt = options.resolve(options.parse(list(args)))  # the options train.main will see
    world = int(os.environ.get('WORLD_SIZE', 1))
    tick = time.perf_counter()
    train.main(list(args))
    wall = time.perf_counter() - tick
    rates = [r for it, r in logged_rates(os.path.join(opt.checkpoints_dir, opt.name, 'loss_log.txt')) if it > 1]
    rate = statistics.median(rates) if rates else None
    return {'device': device_name(opt), 'precision': precision(opt), 'images_per_s': rate,
            'seconds_per_iter': opt.batchSize * world / rate if rate else None,
            'peak_memory_mb': peak_memory_mb(), 'wall_s': wall,
            'note': f"{opt.max_iters} iterations, batch {opt.batchSize} x {world} process(es), "
                    f"label convs {label_convs(opt)}"}


def run_test(args):
    import importlib.util
    spec = importlib.util.spec_from_file_location('test_script', os.path.join(ROOT, 'test.py'))
    test_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(test_script)
    from evaluation import results
    from options.test_options import TestOptions
    options = TestOptions()
    opt = options.resolve(options.parse(list(args)))
    tick = time.perf_counter()
    test_script.main(list(args))
    wall = time.perf_counter() - tick
    folder = os.path.join(results.images_dir(opt.results_dir, opt.name, opt.phase, opt.which_epoch), 'synthesized_image')
    n = len(os.listdir(folder))
    return {'device': device_name(opt), 'precision': precision(opt), 'images_per_s': n / wall,
            'seconds_per_iter': None, 'peak_memory_mb': peak_memory_mb(), 'wall_s': wall,
            'note': f'{n} images, start-up included'}


def run_bench(args):
    """-> several rows: one per (model, path) of the benchmark."""
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    import benchmark
    tick = time.perf_counter()
    r = benchmark.main(list(args) + ['--json'])
    wall = time.perf_counter() - tick
    rows = []
    for x in r['runs']:
        rows.append({'device': r['device'], 'precision': x['options'], 'model': x['model'], 'path': x['path'],
                     'label_convs': r['label_convs'], 'images_per_s': x['train_images_per_s'],
                     'seconds_per_iter': x['seconds_per_iter'],
                     'peak_memory_mb': x.get('peak_memory_mb') or r['peak_memory_mb'],
                     'wall_s': wall, 'note': f"{r['config']['dataset']} {'×'.join(map(str, x['size'][1:]))}, "
                                             f"batch {x['size'][0]}, label convs {r['label_convs']}; "
                                             f"inference {x['inference_images_per_s']:.2f} img/s"})
    return rows


def record(rows_path, label, step, fn, args):
    """Run fn(args) and append its row(s); a failure becomes a row too -> exit status."""
    rank = int(os.environ.get('RANK', 0))
    try:
        rows, status = fn(args), 0
    except BaseException as e:  # SystemExit from argparse, UserError, CUDA errors: all are findings
        if isinstance(e, KeyboardInterrupt):
            raise
        first = ' '.join(str(e).split())[:200] or type(e).__name__
        rows, status = {'note': f'FAILED: {type(e).__name__}: {first}'}, 1
    if rank == 0:
        with open(rows_path, 'a') as f:
            for row in rows if isinstance(rows, list) else [rows]:
                f.write(json.dumps({'step': label, 'kind': step, **row}) + '\n')
    return status


def fmt(v, spec):
    return '–' if v is None else format(v, spec)


def table(rows_path, out_path, title='GPU check'):
    from util import machine
    rows = [json.loads(line) for line in open(rows_path) if line.strip()]
    dense = {(r.get('model'), r.get('path')): r['seconds_per_iter'] for r in rows
             if r.get('label_convs') == 'dense' and r.get('seconds_per_iter')}
    lines = ['| step | device | precision | img/s | s/iter | peak memory (MB) | lookup ÷ dense (s/iter) | wall s '
             '| note |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        label = r['step'] + (f" {r['model']} {r['path']}" if 'model' in r else '')
        ratio = None
        if r.get('label_convs') == 'lookup' and r.get('seconds_per_iter') and (r.get('model'), r.get('path')) in dense:
            ratio = r['seconds_per_iter'] / dense[r['model'], r['path']]
        lines.append(f"| {label} | {r.get('device', '–')} | {r.get('precision', '–')} | "
                     f"{fmt(r.get('images_per_s'), '.2f')} | {fmt(r.get('seconds_per_iter'), '.3f')} | "
                     f"{fmt(r.get('peak_memory_mb'), '.0f')} | {fmt(ratio, '.2f')} | {fmt(r.get('wall_s'), '.1f')} | "
                     f"{r.get('note', '')} |")
    text = '\n'.join([f'{title}; machine: {machine.summary()}', ''] + lines) + '\n'
    with open(out_path, 'w') as f:
        f.write(text)
    return text


def main(argv):
    usage = __doc__.split('\n\n')[1]
    if len(argv) < 3:
        sys.exit(f"usage:\n{usage}")
    step, rows_path = argv[0], argv[1]
    if step == 'table':
        title = argv[argv.index('--title') + 1] if '--title' in argv else 'GPU check'
        print(table(rows_path, argv[2], title), end='')
        return 0
    label, rest = argv[2], argv[3:]
    if step == 'skip':
        return record(rows_path, label, step, lambda why: {'note': f'skipped: {" ".join(why)}'}, rest)
    runners = {'train': run_train, 'test': run_test, 'bench': run_bench}
    if step not in runners:
        sys.exit(f"unknown step {step!r}; usage:\n{usage}")
    if rest[:1] == ['--']:
        rest = rest[1:]
    return record(rows_path, label, step, runners[step], rest)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
