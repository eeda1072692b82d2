"""The paper's ablation on the demo data, with seeds and error bars: does each addition help?

    python scripts/experiment.py                      # about 1.5 hours on an idle 2-core AVX-512 CPU (see README)
    python scripts/experiment.py --iters 40 --seeds 0 --rows spade,ulbpgan   # a quick look

Rows: SPADE; + LBP generator (G_L, SPADE on concat(S, L)); + MFADE; ULBPGAN (+ D_L); ULBPGAN whose
D_L does not judge LBP(I) (--no_lbp_image_fake: G_I gets no texture signal from D_L). Each row is
trained with every seed on the same data (200 train / --num_val val demo scenes) for --iters
iterations with SPADE's schedule (constant, then linear decay over the second half), scored every
--eval_freq iterations on all val scenes (train.py --eval_freq: LBP distance, and the small
segmenter's mIoU, accuracy and FID/KID on its features). The table gives each metric's mean and 95 %
confidence interval over seeds (Student t), and each row's difference to SPADE paired by seed.

Resumable: a finished run is kept (checkpoints/<run>/experiment_done.json) and not redone; an
interrupted one goes on from its latest.pth (saved every 100 iterations); so the same command
continues where a stopped experiment left off. Writes <out>/table.md, results.json and curves.png.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from scripts import ablation  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402
from util.machine import FAST_OPTIONS, cpu_has_bf16, summary  # noqa: E402

ROWS = {k: ablation.ROWS[k] for k in ablation.DEMO_ROWS}  # name -> (label, train.py options)
METRICS = {  # column -> (label, higher is better)
    'miou': ('mIoU', True), 'accuracy': ('acc', True), 'lbp_distance': ('LBP dist', False),
    'fid_seg': ('FID (seg. features)', False), 'kid_seg': ('KID (seg. features)', False),
}
SCALE = {'miou': 100, 'accuracy': 100, 'kid_seg': 1000}  # shown as percent / ×10³
DIGITS = {'lbp_distance': 3}  # decimals shown (default 2)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--rows', default=','.join(ROWS))
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--iters', type=int, default=1000, help='training iterations per run (batch 4)')
    p.add_argument('--eval_freq', type=int, default=100)
    p.add_argument('--num_val', type=int, default=100, help='val scenes generated and scored')
    p.add_argument('--seg_iters', type=int, default=1000, help='iterations of the small segmenter')
    p.add_argument('--dataroot', default='datasets/demo_experiment')
    p.add_argument('--checkpoints_dir', default='checkpoints')
    p.add_argument('--out', default='results/experiment')
    p.add_argument('--amp', choices=('auto', 'none', 'bf16'), default='auto',
                   help='auto: bf16 + channels_last where the CPU has native bf16, else fp32')
    p.add_argument('--report_only', action='store_true', help='write the table from the runs done so far')
    args = p.parse_args(argv)
    args.rows = args.rows.split(',')
    unknown = [r for r in args.rows if r not in ROWS]
    if unknown:
        raise UserError(f"--rows: unknown {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    args.seeds = [int(s) for s in args.seeds.split(',')]
    if args.iters < 1 or args.eval_freq < 1 or args.num_val < 2:
        raise UserError("--iters and --eval_freq must be at least 1, --num_val at least 2")
    return args


def run(cmd):
    print('+ ' + ' '.join(cmd), flush=True)
    code = subprocess.call([sys.executable] + cmd, cwd=ROOT)
    if code:
        raise UserError(f"{cmd[0]} failed (exit status {code}); fix the cause and run the same command again: "
                        f"finished runs are kept")


def make_data(args):
    if os.path.isdir(os.path.join(args.dataroot, 'gtFine', 'val')):
        return
    from data.demo_scenes import make_demo
    tmp = args.dataroot.rstrip('/') + '.tmp'
    print(make_demo(tmp, fmt='cityscapes', num_train=200, num_val=args.num_val, width=256, height=128))
    os.replace(tmp, args.dataroot)


def segmenter(args):
    path = os.path.join(args.checkpoints_dir, 'experiment_segmenter.pth')
    if not os.path.isfile(path):
        run(['scripts/train_segmenter.py', '--dataset_mode', 'demo', '--dataroot', args.dataroot, '--gpu_ids', '-1',
             '--iters', str(args.seg_iters), '--out', path])
    return path


def precision(args):
    bf16 = args.amp == 'bf16' or (args.amp == 'auto' and cpu_has_bf16())
    return list(FAST_OPTIONS) if bf16 else ['--amp', 'none']


def train(args, row, seed, seg_weights):
    """Train one run unless it is done; -> its folder."""
    name = f'exp_{row}_s{seed}'
    folder = os.path.join(args.checkpoints_dir, name)
    done = os.path.join(folder, 'experiment_done.json')
    if os.path.isfile(done):
        return folder
    epochs = -(-args.iters // 50)  # the demo's 200 scenes in batches of 4: 50 iterations an epoch
    cmd = ['train.py', '--name', name, '--checkpoints_dir', args.checkpoints_dir, '--dataset_mode', 'demo',
           '--dataroot', args.dataroot, '--gpu_ids', '-1', '--seed', str(seed), '--ngf', '16', '--ndf', '16',
           '--nhidden', '32', '--max_iters', str(args.iters), '--niter', str(epochs - epochs // 2),
           '--niter_decay', str(epochs // 2), '--save_epoch_freq', '100000', '--save_latest_freq', '100',
           '--eval_freq', str(args.eval_freq), '--eval_num', str(args.num_val), '--eval_seg_weights', seg_weights,
           '--display_freq', '200', *precision(args), *ROWS[row][1]]
    resume = os.path.isfile(os.path.join(folder, 'latest.pth'))
    start = time.time()
    run(cmd + (['--continue_train'] if resume else []))
    spent = time.time() - start
    times = os.path.join(folder, 'experiment_time.txt')
    with open(times, 'a') as f:
        f.write(f'{spent:.1f}\n')  # one line per attempt: a resumed run adds up its parts
    with open(times) as f:
        seconds = sum(float(x) for x in f)
    with open(done, 'w') as f:
        json.dump({'seconds': seconds, 'precision': ' '.join(precision(args))}, f)
    return folder


def eval_log(folder):
    with open(os.path.join(folder, 'eval_log.csv')) as f:
        return [{k: float(v) if v not in ('', None) else None for k, v in r.items()} for r in csv.DictReader(f)]


def interval(values):
    """(mean, half-width of the 95 % confidence interval by Student t; None for one value)."""
    from scipy import stats
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), None
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def cell(values, key):
    mean, half = interval(np.asarray(values) * SCALE.get(key, 1))
    d = DIGITS.get(key, 2)
    return f'{mean:.{d}f}' if half is None else f'{mean:.{d}f} ± {half:.{d}f}'


def collect(args):
    """{row: {seed: (final eval row, all eval rows, seconds)}} of the finished runs."""
    out = {}
    for row in args.rows:
        for seed in args.seeds:
            folder = os.path.join(args.checkpoints_dir, f'exp_{row}_s{seed}')
            done = os.path.join(folder, 'experiment_done.json')
            if os.path.isfile(done):
                log = eval_log(folder)
                out.setdefault(row, {})[seed] = (log[-1], log, read_json(done, {})['seconds'])
    return out


def table(args, runs):
    keys = list(METRICS)
    lines = [f"| row | seeds | {' | '.join(METRICS[k][0] for k in keys)} |", '|' + ' --- |' * (len(keys) + 2)]
    for row, by_seed in runs.items():
        finals = [r[0] for r in by_seed.values()]
        lines.append(f"| {ROWS[row][0]} | {len(finals)} | " +
                     ' | '.join(cell([f[k] for f in finals], k) if finals[0][k] is not None else 'n/a'
                                for k in keys) + ' |')
    diffs = [f"| difference, paired by seed | seeds | {' | '.join(METRICS[k][0] for k in keys)} |",
             '|' + ' --- |' * (len(keys) + 2)]
    pairs = [(row, 'spade', f'{ROWS[row][0]} − SPADE') for row in runs if row != 'spade']
    pairs.append(('ulbpgan', 'no_image_fake', 'ULBPGAN − ULBPGAN without LBP(I): the texture signal to G_I'))
    for row, other, label in pairs:
        a, b = runs.get(row, {}), runs.get(other, {})
        seeds = [s for s in a if s in b]
        if seeds:
            diffs.append(f"| {label} | {len(seeds)} | " + ' | '.join(
                cell([a[s][0][k] - b[s][0][k] for s in seeds], k) if a[seeds[0]][0][k] is not None else 'n/a'
                for k in keys) + ' |')
    return '\n'.join(lines), '\n'.join(diffs)


def curves(runs, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    for ax, key in zip(axes, ('miou', 'accuracy', 'lbp_distance', 'fid_seg')):
        for row, by_seed in runs.items():
            logs = [r[1] for r in by_seed.values()]
            length = min(len(log) for log in logs)
            its = [logs[0][i]['iteration'] for i in range(length)]
            if logs[0][0][key] is None:
                continue
            v = np.array([[log[i][key] * SCALE.get(key, 1) for i in range(length)] for log in logs])
            ax.plot(its, v.mean(0), label=ROWS[row][0])
            ax.fill_between(its, v.min(0), v.max(0), alpha=0.15)
        label, higher = METRICS[key]
        ax.set_title(f"{label} ({'higher' if higher else 'lower'} is better)")
        ax.set_xlabel('iteration')
    axes[0].legend(fontsize=8)
    fig.suptitle('demo val scenes: mean over seeds, band = min..max over seeds')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def log_wall(args, started):
    """Record this invocation's wall time so far (up to its last finished run), keyed by its start:
    the report adds up the invocations of a stopped and continued experiment."""
    path = os.path.join(args.out, 'wall_seconds.json')
    spent = read_json(path, {})
    spent[time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))] = round(time.time() - started, 1)
    os.makedirs(args.out, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(spent, f, indent=1)


def wall_minutes(args):
    path = os.path.join(args.out, 'wall_seconds.json')
    spent = read_json(path, None)
    return None if spent is None else sum(spent.values()) / 60


def read_json(path, default):
    if not os.path.isfile(path):
        return default
    with open(path) as f:
        return json.load(f)


def report(args):
    runs = collect(args)
    if not runs:
        print("no finished runs yet")
        return
    main_table, diff_table = table(args, runs)
    seconds = sum(r[2] for by_seed in runs.values() for r in by_seed.values())
    wall = wall_minutes(args)
    os.makedirs(args.out, exist_ok=True)
    curves(runs, os.path.join(args.out, 'curves.png'))
    text = (f"Demo ablation ({time.strftime('%Y-%m-%d')}; {summary()}): {args.iters} iterations of batch 4 per run, "
            f"seeds {','.join(map(str, args.seeds))}, {args.num_val} val scenes; "
            f"training + evaluation time of the runs {seconds / 60:.0f} min"
            f"{'' if wall is None else f', wall time {wall:.0f} min'}.\n"
            f"mIoU and acc in %, KID ×10³; mean ± 95 % CI over seeds (Student t).\n\n"
            f"{main_table}\n\n{diff_table}\n")
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write(text)
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump({row: {str(s): {'final': r[0], 'seconds': r[2]} for s, r in by_seed.items()}
                   for row, by_seed in runs.items()}, f, indent=1)
    print(text)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    if not args.report_only:
        make_data(args)
        seg_weights = segmenter(args)
        for seed in args.seeds:  # seed by seed: a stopped experiment has whole seeds of every row
            for row in args.rows:
                train(args, row, seed, seg_weights)
                log_wall(args, start)
    report(args)


if __name__ == '__main__':
    exit_on_user_error(main)
