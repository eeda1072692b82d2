"""An experiment's runs: the data and the small segmenter they share, each run's train.py command, training it
(resumable), scoring it on the final split, and its records (kept in --records so that runs made on several
machines pool); `collect` gathers the finished runs made with an invocation's settings."""
import csv
import os
import shutil
import subprocess
import sys
import time

import torch

from evaluation import results
from evaluation.during_training import read_log
from evaluation.metrics import all_metrics
from experiments.plans import CAMVID_URL, EXPERIMENTS
from experiments.rows import ITERATIONS, ROWS
from experiments.statistics import run_value
from util.errors import UserError
from util.jsonfile import read_json, write_json
from util.machine import FAST_OPTIONS, auto_amp, describe, summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A run's records (logs, settings, scores; no weights): what it is reported from. The done marker is copied last.
RECORDS = ('eval_log.csv', 'eval_per_class.json', 'eval_references.json', 'experiment_settings.json',
           'experiment_time.txt', 'opt.json', 'experiment_done.json')
STARTED = 'experiment_started.txt'  # the start of the attempt under way: one killed with this process leaves it
RESCORED, VAL_RESCORED = 'experiment_rescored.json', 'eval_rescored.csv'  # records written later by --rescore
VAL_COLUMNS = ('iteration', 'c2st', 'c2st_std', 'colour_js', 'gradient_js')


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
    if EXPERIMENTS[args.dataset]['mode'] == 'camvid':
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


def seg_path(args):
    """The small segmenter of the experiment's data (one for every experiment on the same dataset)."""
    return os.path.join(args.checkpoints_dir, f"experiment_segmenter_{EXPERIMENTS[args.dataset]['mode']}.pth")


def segmenter(args):
    path = seg_path(args)
    wanted = {'dataroot': os.path.abspath(args.dataroot), 'seg_iters': args.seg_iters}
    record = path[:-4] + '.json'
    if os.path.isfile(path):
        made_for(record, wanted, path, "remove it (and its .json) to train it again, or pass the arguments it was made with")
    else:
        run(['scripts/train_segmenter.py', '--dataset_mode', EXPERIMENTS[args.dataset]['mode'], '--dataroot',
             args.dataroot, '--gpu_ids', '-1', '--iters', str(args.seg_iters), '--out', path])
        write_json(record, wanted)
    return path


def precision(args):
    bf16 = args.amp == 'bf16' or (args.amp == 'auto' and auto_amp(torch.device('cpu')) == 'bf16')
    return list(FAST_OPTIONS) if bf16 else ['--amp', 'none']


def run_name(args, row, seed):
    return f'exp_{args.dataset}_{row}_s{seed}'


def iterations(args, row):
    """(training iterations, evaluation interval) of a row: a compute-matched row trains longer and is
    evaluated as many times."""
    factor = ITERATIONS.get(row, 1)
    return args.iters * factor, args.eval_freq * factor


def command(args, row, seed, seg_weights):
    """The train.py command of one run: what its settings record holds."""
    options = EXPERIMENTS[args.dataset]['options']
    iters, eval_freq = iterations(args, row)
    epochs = -(-iters // EXPERIMENTS[args.dataset]['per_epoch'])
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
    times = os.path.join(folder, 'experiment_time.txt')
    count_killed_attempt(folder, times)
    start = time.time()
    with open(os.path.join(folder, STARTED), 'w') as f:
        f.write(f'{start}\n')
    run(cmd + (['--continue_train'] if resume else []), threads=threads)
    add_attempt(times, time.time() - start)
    os.remove(os.path.join(folder, STARTED))
    with open(times) as f:
        seconds = sum(float(x) for x in f)
    reached, wanted = int(read_log(folder)[-1]['iteration']), iterations(args, row)[0]
    if reached != wanted:  # train.py stopped by a signal saves latest.pth and exits 0
        raise UserError(f"{folder}: stopped at iteration {reached} of {wanted}; run the same command to continue")
    final = score_final(args, run_name(args, row, seed), seg_weights)
    write_json(done, {'seconds': seconds, 'iterations': reached, 'command': cmd, 'final': final,
                      'machine': summary(dict(describe(), torch_threads=threads or torch.get_num_threads()))})
    keep_records(args, folder)


def add_attempt(times, seconds):
    with open(times, 'a') as f:
        f.write(f'{seconds:.1f}\n')  # one line per attempt: a resumed run adds up its parts


def count_killed_attempt(folder, times):
    """An attempt killed together with this process left its start behind: count it up to its last save of
    `latest`, the work the run resumes from (what it trained after that is trained again)."""
    started, latest = os.path.join(folder, STARTED), os.path.join(folder, 'latest.pth')
    if not os.path.isfile(started):
        return
    with open(started) as f:
        text = f.read()
    start = float(text) if text.strip().replace('.', '', 1).isdigit() else None  # cut short mid-write: unknown
    if start is not None and os.path.isfile(latest) and os.path.getmtime(latest) > start:
        add_attempt(times, os.path.getmtime(latest) - start)
    os.remove(started)


def keep_records(args, folder):
    """Copy a finished run's records into --records (the done marker last, so a copy cut short is not a run)."""
    if args.records:
        kept = os.path.join(args.records, os.path.basename(folder))
        os.makedirs(kept, exist_ok=True)
        for name in RECORDS:
            shutil.copy2(os.path.join(folder, name), os.path.join(kept, name))


def restore_records(args):
    """Bring back into --checkpoints_dir the planned runs that --records holds and it lacks: finished elsewhere;
    and the rescored scores of a run made or restored earlier, when the records' copy is newer (rescored elsewhere)."""
    if not args.records:
        return
    for row in args.rows:
        for seed in args.seeds:
            name = run_name(args, row, seed)
            kept, folder = os.path.join(args.records, name), os.path.join(args.checkpoints_dir, name)
            if not os.path.isfile(os.path.join(kept, RECORDS[-1])):
                continue
            if not os.path.isfile(os.path.join(folder, RECORDS[-1])):
                missing = [f for f in RECORDS if not os.path.isfile(os.path.join(kept, f))]
                if missing:
                    raise UserError(f"{kept}: no {', '.join(missing)}, so it is no whole run; copy them back from "
                                    f"where it was made, or remove the folder to train that run again")
                os.makedirs(folder, exist_ok=True)
                for file in RECORDS:
                    shutil.copy2(os.path.join(kept, file), os.path.join(folder, file))
                print(f"{folder}: finished elsewhere, its records taken from {kept}")
            for file in (RESCORED, VAL_RESCORED):
                src, dst = os.path.join(kept, file), os.path.join(folder, file)
                if os.path.isfile(src) and (not os.path.isfile(dst) or os.path.getmtime(src) > os.path.getmtime(dst)):
                    shutil.copy2(src, dst)


def final_dir(args):
    return os.path.join(args.out, f"{EXPERIMENTS[args.dataset]['final']}_images")


def score_final(args, name, seg_weights):
    """The trained run's scores on the experiment's final split (test.py, then evaluate.py with the small
    segmenter; Inception FID needs weights this experiment does not assume), or None. The images stay in
    final_dir (outside git) for `rescore`."""
    phase = EXPERIMENTS[args.dataset]['final']
    if phase is None:
        return None
    common = ['--name', name, '--checkpoints_dir', args.checkpoints_dir, '--results_dir', final_dir(args),
              '--phase', phase, '--gpu_ids', '-1']
    run(['test.py', *common, '--dataroot', args.dataroot])
    run(['evaluate.py', *common, '--segmenter', 'small', '--seg_weights', seg_weights, '--no_fid'])
    return final_scores(read_json(os.path.join(results.run_dir(final_dir(args), name, phase), 'metrics.json')))


def final_scores(metrics):
    """What a run's records keep of evaluate.py's metrics.json."""
    return {**{k: metrics.get(k) for k in all_metrics()}, 'texture_references': metrics['texture_references'],
            'per_class': {'texture': metrics.get('texture_per_class'), 'histograms': metrics.get('histogram_per_class')},
            'c2st_curve': metrics.get('c2st_curve')}


def collect(args, seg_weights, keys):
    """{row: {seed: run}} of the finished runs made with this invocation's settings; the others are named."""
    out, first = {}, None
    for row in args.rows:
        for seed in args.seeds:
            folder = os.path.join(args.checkpoints_dir, run_name(args, row, seed))
            done = read_json(os.path.join(folder, 'experiment_done.json'))
            if done is None:
                continue
            log, why = read_log(folder), None
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
            log = merged(log, folder)
            out.setdefault(row, {})[seed] = {'value': run_value(log, args.last, keys), 'log': log,
                                             'final': rescored_final(folder, done.get('final')),
                                             'seconds': done['seconds'], 'folder': folder,
                                             'machine': done.get('machine', 'a machine not recorded')}
    return out


def machine_chosen(folder):
    """What train.py decided for the machine it ran on and changes the training (the command may leave them to
    it): every run of one experiment must agree. Not --channels_last: a memory layout, the same arithmetic in
    another order, as two CPUs' kernels do anyway."""
    opt = read_json(os.path.join(folder, 'opt.json'), {})
    return {k: opt.get(k) for k in ('no_vgg_loss', 'amp')}


def log_wall(args, started):
    """Record this invocation's wall time so far (up to its last finished run), keyed by its start:
    the report adds up the invocations of a stopped and continued experiment."""
    path = os.path.join(args.out, 'wall_seconds.json')
    spent = read_json(path, {})
    spent[time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))] = round(time.time() - started, 1)
    os.makedirs(args.out, exist_ok=True)
    write_json(path, spent)


def merged(log, folder):
    """The eval log with the rescored val values of the same iterations added (None where none were rescored)."""
    path = os.path.join(folder, VAL_RESCORED)
    if not os.path.isfile(path):
        return log
    with open(path) as f:
        extra = {int(float(r['iteration'])): {k: float(v) for k, v in r.items() if k != 'iteration' and v != ''}
                 for r in csv.DictReader(f)}
    return [{**row, **{k: None for k in VAL_COLUMNS[1:] if row.get(k) is None},
             **extra.get(int(row['iteration']), {})} for row in log]


def rescored_final(folder, final):
    """The run's rescored final-split scores when it has them, else those made at the end of training."""
    found = read_json(os.path.join(folder, RESCORED))
    return final if found is None else found['final']
