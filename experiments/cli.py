"""python scripts/experiment.py's options, and what it does with them: train the missing runs, then report."""
import argparse
import concurrent.futures
import os
import time

import numpy as np

from evaluation import results
from evaluation.metrics import derived
from experiments import figures, rescore
from experiments.plans import EXPERIMENTS, PLANS
from experiments.references import LABELS, final_references
from experiments.report import (FINAL_KEYS, METRICS, VAL_KEYS, cell, convergence, diff_tables, final_section,
                                header, per_class_table, present, references, segmenter_note, texture_regime,
                                values_table)
from experiments.rows import ROWS
from experiments.runs import (collect, final_dir, log_wall, make_data, restore_records, run_name, seg_path, segmenter,
                              train)
from util.errors import UserError
from util.jsonfile import read_json, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Experiments with seeds and error bars (experiments/).')
    p.add_argument('--dataset', choices=EXPERIMENTS, default='demo', help='the experiment (experiments/plans.py)')
    p.add_argument('--rows', help="default: the experiment's plan (experiments/rows.py has them all)")
    p.add_argument('--seeds', help="default: the experiment's plan")
    p.add_argument('--iters', type=int, help="training iterations per run (batch 4); default: the plan's")
    p.add_argument('--eval_freq', type=int, help="default: the plan's")
    p.add_argument('--last', type=int, default=3, help='a run is worth the mean of its last LAST evaluations')
    p.add_argument('--num_val', type=int, default=None, help='val scenes scored (default: 100 demo, all 101 CamVid)')
    p.add_argument('--seg_iters', type=int, default=1000, help='iterations of the small segmenter')
    p.add_argument('--dataroot', default=None,
                   help='default: datasets/demo_experiment (generated there) or datasets/CamVid')
    p.add_argument('--checkpoints_dir', default='checkpoints')
    p.add_argument('--out', help='default: results/experiment (demo), results/experiment_<dataset> otherwise')
    p.add_argument('--amp', choices=('auto', 'none', 'bf16'),
                   help="auto: bf16 + channels_last where the CPU has native bf16, else fp32; default: the plan's")
    p.add_argument('--jobs', type=int, default=1,
                   help='runs trained at once, each with cores/JOBS torch threads: on a CPU shared with other work, '
                        'single-threaded runs side by side lose far less to contention than one two-threaded run')
    p.add_argument('--records', help="a folder (e.g. in git) keeping each finished run's records (logs, settings, "
                                     "scores; no weights): they are copied there, and a run found there is not "
                                     "trained again, so an experiment can be carried on on another machine")
    p.add_argument('--report_only', action='store_true', help='write the table from the runs done so far')
    p.add_argument('--rescore', action='store_true',
                   help="score the finished runs again from their kept final-split images with today's metrics, "
                        "then report (no training)")
    p.add_argument('--rescore_val', action='store_true',
                   help='score the val images each run kept at its evaluations (C2ST curves), then report; '
                        'alone it leaves the final split as scored, with --rescore both')
    p.add_argument('--rescore_every', type=int, default=1, help='rescore every N-th kept evaluation (the last always)')
    p.add_argument('--rescore_seeds', type=int, default=3, help='classifier seeds of the rescored val C2ST')
    args = p.parse_args(argv)
    plan = EXPERIMENTS[args.dataset]['plan']
    args.planned = all(getattr(args, k) in (None, v) for k, v in plan.items() if k != 'seeds') and args.last == 3
    for key, value in plan.items():
        setattr(args, key, value if getattr(args, key) is None else getattr(args, key))
    args.rows = args.rows.split(',')
    unknown = [r for r in args.rows if r not in ROWS]
    if unknown:
        raise UserError(f"--rows: unknown {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    args.seeds = [int(s) for s in args.seeds.split(',')]
    args.num_val = EXPERIMENTS[args.dataset]['num_val'] if args.num_val is None else args.num_val
    if min(args.iters, args.eval_freq, args.last, args.jobs, args.rescore_every, args.rescore_seeds) < 1 \
            or args.num_val < 2:
        raise UserError("--iters, --eval_freq, --last, --jobs, --rescore_every and --rescore_seeds must be at least 1, "
                        "--num_val at least 2")
    args.dataroot = args.dataroot or EXPERIMENTS[args.dataset]['dataroot']
    args.out = args.out or 'results/experiment' + ('' if args.dataset == 'demo' else f'_{args.dataset}')
    return args


def val_section(args, runs, refs):
    val = {row: {s: derived(r['value']) for s, r in by_seed.items()} for row, by_seed in runs.items()}
    keys = present(VAL_KEYS, [v for by_seed in val.values() for v in by_seed.values()])
    extra = []
    if 'real_images' in refs:
        values = {**refs['real_images'], **refs['real_vs_real']}
        extra.append('| reference: real val images (segmenter ceiling; FID/KID even vs odd) | | ' + ' | '.join(
            cell([values[k]], k) if values.get(k) is not None else '' for k in keys) + ' | |')
    table = values_table(f'val, mean of the last {args.last} evaluations', {r: list(v.values()) for r, v in val.items()},
                         keys, refs['texture'], extra)
    free, real = refs['texture']['texture_free']['texture_js'], refs['texture']['real_vs_real']['texture_js']
    diffs, power = diff_tables(val, keys, EXPERIMENTS[args.dataset]['primary'], 'texture_js', 0.1 * (free - real))
    return f"{table}\n{segmenter_note(refs)}\n{diffs}\n\n{power}\n"


def references_section(refs):
    """The final split's references as rows of the final table's measures."""
    if len(refs) < 2:
        return ''
    keys = present(FINAL_KEYS, [derived(m) for m in refs.values()])
    lines = ['| the final split\'s photos rendered, scored as the runs are | ' + ' | '.join(
        METRICS[k].label for k in keys) + ' |', '|' + ' --- |' * (len(keys) + 1)]
    for name, m in refs.items():
        m = derived(m)
        lines.append(f"| {LABELS[name]} | " + ' | '.join(cell([m.get(k)], k) for k in keys) + ' |')
    return '\n'.join(lines)


def report(args, seg_weights):
    runs = collect(args, seg_weights, VAL_KEYS)
    if not runs:
        print("no finished runs yet")
        return
    refs = references(runs)
    os.makedirs(args.out, exist_ok=True)
    figures.curves(runs, os.path.join(args.out, 'curves.png'))
    final_refs = final_references(args, runs, seg_weights, EXPERIMENTS[args.dataset].get('references', ('real_photos',)))
    text = header(args, runs, PLANS[args.dataset].format(last=args.last)) + '\n' + val_section(args, runs, refs)
    text += f"\n{convergence(runs)}\n\n{texture_regime(runs, refs)}\n"
    text += final_section(args, runs, final_refs.get('real_photos'))
    text += '\n' + references_section(final_refs) + '\n\n' + c2st_curves(args, runs, final_refs)
    text += pictures(args, runs)
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write(text)
    write_json(os.path.join(args.out, 'results.json'),
               {'references': refs, 'final_references': {k: {m: v.get(m) for m in FINAL_KEYS}
                                                         for k, v in final_refs.items()},
                'runs': {row: {str(s): {'value': r['value'], 'last_eval': r['log'][-1], 'final_split': r['final'],
                                        'seconds': r['seconds']} for s, r in by_seed.items()}
                         for row, by_seed in runs.items()}})
    print(text)


def pictures(args, runs):
    """The final split's picture grid and per-class crops (the lowest seed whose every row has images here), and
    the per-class table of the primary comparison."""
    phase = EXPERIMENTS[args.dataset]['final']
    if phase is None:
        return ''
    out, seeds = '', sorted(set.intersection(*(set(by_seed) for by_seed in runs.values())))
    for seed in seeds:
        folders = figures.image_folders(final_dir(args), {row: run_name(args, row, seed) for row in runs}, phase)
        if len(folders) == len(runs):
            figures.picture_grid(folders, os.path.join(args.out, 'test_grid.png'))
            out += (f"\ntest_grid.png: label, {', '.join(ROWS[r][0] for r in folders)}, real photo ({phase} split, "
                    f"seed {seed}).\n")
            if figures.class_crops(folders, os.path.join(args.out, 'class_crops.png'), list(enumerate(class_names(args)))):
                out += f"class_crops.png: per class, real photo then {', '.join(ROWS[r][0] for r in folders)}.\n"
            break
    per_class = {row: {s: kept_final(args, row, s, r, 'per_class') for s, r in by_seed.items()}
                 for row, by_seed in runs.items()}
    per_class = {row: {s: v for s, v in by_seed.items() if v} for row, by_seed in per_class.items()}
    table = per_class_table(per_class, EXPERIMENTS[args.dataset]['primary'], class_names(args))
    return out + (f"\nPer class on the {phase} split (the primary comparison; each class's divergence):\n\n{table}\n"
                  if table else '')


def class_names(args):
    """The experiment's class names by id (the dataset's palette)."""
    from types import SimpleNamespace
    import data
    from data.palettes import classes_for
    cls = data.dataset_class(EXPERIMENTS[args.dataset]['mode'])
    opt = SimpleNamespace(dataset_mode=EXPERIMENTS[args.dataset]['mode'], label_nc=cls.LABEL_NC,
                          contain_dontcare_label=cls.CONTAIN_DONTCARE_LABEL)
    names = {i: name for i, name, _ in classes_for(opt)}
    return [names.get(i, f'id {i}') for i in range(cls.LABEL_NC)]


def kept_final(args, row, seed, run, key):
    """A final-split value the records of runs made before it was kept lack (the per-class values, the C2ST's
    curve): the records', else the one in the metrics.json the run left on this machine, else None."""
    found = (run['final'] or {}).get(key)
    if found and (key != 'per_class' or found.get('histograms')):
        return found
    phase = EXPERIMENTS[args.dataset]['final']
    metrics = read_json(os.path.join(results.run_dir(final_dir(args), run_name(args, row, seed), phase), 'metrics.json'))
    if not metrics:
        return None
    if key == 'per_class':
        return metrics.get('histogram_per_class') and {'texture': metrics.get('texture_per_class'),
                                                       'histograms': metrics['histogram_per_class']}
    return metrics.get(key)


def c2st_curves(args, runs, refs):
    """The C2ST's accuracy against its training steps on the final split: each row's mean over seeds and each
    reference, so that one sees where the references spread out and whether the classifier saturates."""
    rows = {ROWS[row][0]: [kept_final(args, row, s, r, 'c2st_curve') for s, r in by_seed.items()]
            for row, by_seed in runs.items()}
    rows = {name: curves for name, curves in rows.items() if curves and all(curves)}
    rows.update({LABELS[name]: [m['c2st_curve']] for name, m in refs.items() if m.get('c2st_curve')})
    if not rows:
        return ''
    steps = list(next(iter(rows.values()))[0])
    lines = ['| C2ST accuracy after ... classifier steps | ' + ' | '.join(steps) + ' |', '|' + ' --- |' * (len(steps) + 1)]
    for name, curves in rows.items():
        lines.append(f"| {name} | " + ' | '.join(f"{np.mean([c[s] for c in curves]):.3f}" for s in steps) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    seg_weights = seg_path(args)
    restore_records(args)
    if args.rescore or args.rescore_val:
        runs = collect(args, seg_weights, VAL_KEYS)
        for by_seed in runs.values():
            for r in by_seed.values():
                if args.rescore and not rescore.rescore_final(args, r['folder'], seg_weights):
                    print(f"{r['folder']}: no final-split images on this machine; not rescored")
                if args.rescore_val and not rescore.rescore_val(args, r['folder']):
                    print(f"{r['folder']}: no kept val images on this machine; its curves not rescored")
    elif not args.report_only:
        make_data(args)
        seg_weights = segmenter(args)
        # seed by seed: a stopped experiment has whole seeds of every row
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            runs = [pool.submit(train, args, row, seed, seg_weights) for seed in args.seeds for row in args.rows]
            try:
                for done in concurrent.futures.as_completed(runs):
                    if done.exception():
                        print(f"error: {done.exception()}; waiting for the runs under way, starting no other", flush=True)
                        raise done.exception()
                    log_wall(args, start)
            except BaseException:  # an error or Ctrl-C (which also stops the runs under way, saving latest.pth)
                pool.shutdown(cancel_futures=True)
                raise
    report(args, seg_weights)
