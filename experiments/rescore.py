"""Score finished runs again from the images they kept, with today's metrics and no retraining.

- the final split: evaluate.py on the run's test.py images (kept in the experiment's --out folder); the scores
  go to the run's experiment_rescored.json (and --records), which the report prefers to those made at the end
  of training;
- with --rescore_val: the val images kept at every evaluation (train.py --eval_keep_images) against the run's
  val photos: the C2ST (colour, --rescore_seeds classifier seeds) and the colour / gradient histograms of each
  --rescore_every-th evaluation, in the run's eval_rescored.csv, which the report merges into its curves.
"""
import copy
import csv
import os
import shutil
from types import SimpleNamespace

import numpy as np
from PIL import Image

import data
from evaluation import c2st, results
from evaluation.during_training import val_options
from evaluation.histograms import HistogramDivergence
from experiments.plans import EXPERIMENTS
from experiments.runs import RESCORED, VAL_COLUMNS, VAL_RESCORED, final_dir, final_scores, run
from util.errors import UserError
from util.images import tensor2im
from util.jsonfile import read_json, write_json



def rescore_final(args, folder, seg_weights):
    """evaluate.py on the run's kept final-split images -> its experiment_rescored.json; False without images."""
    phase, name = EXPERIMENTS[args.dataset]['final'], os.path.basename(folder)
    if phase is None or not os.path.isdir(results.images_dir(final_dir(args), name, phase)):
        return False
    run(['evaluate.py', '--name', name, '--checkpoints_dir', args.checkpoints_dir, '--results_dir', final_dir(args),
         '--phase', phase, '--gpu_ids', '-1', '--segmenter', 'small', '--seg_weights', seg_weights, '--no_fid'])
    metrics = read_json(os.path.join(results.run_dir(final_dir(args), name, phase), 'metrics.json'))
    write_json(os.path.join(folder, RESCORED), {'final': final_scores(metrics)})
    if args.records:
        shutil.copy2(os.path.join(folder, RESCORED), os.path.join(args.records, name, RESCORED))
    return True


def val_scenes(folder):
    """(names, real images, label maps) of the val scenes the run was evaluated on, as its evaluator read them."""
    opt = SimpleNamespace(**read_json(os.path.join(folder, 'opt.json')))
    dataset = data.create_dataset(val_options(copy.copy(opt)))
    samples = [dataset[i] for i in range(len(dataset))]
    names = [results.stem_of(s['path']) for s in samples]
    return names, [tensor2im(s['image']) for s in samples], [s['label'][0].numpy() for s in samples]


def rescore_val(args, folder):
    """eval_rescored.csv of the run's kept val images (every --rescore_every-th evaluation); False without them."""
    kept = os.path.join(folder, 'eval_images')
    if not os.path.isdir(kept):
        return False
    its = sorted(int(i) for i in os.listdir(kept) if i.isdigit())[::-1][::args.rescore_every][::-1]  # the last always
    names, reals, labels = val_scenes(folder)
    rows = []
    for it in its:
        missing = [n + '.png' for n in names if not os.path.isfile(os.path.join(kept, str(it), n + '.png'))]
        if missing:
            raise UserError(f"{os.path.join(kept, str(it))}: no {missing[0]} ({len(missing)} of {len(names)} val "
                            f"images missing); remove that folder to leave its evaluation out, or run with "
                            f"--rescore_every that skips it")
        fakes = [np.array(Image.open(os.path.join(kept, str(it), n + '.png')).convert('RGB')) for n in names]
        hist = HistogramDivergence()
        for f, r, lb in zip(fakes, reals, labels):
            hist.add(f, r, lb)
        found = c2st.c2st(np.stack(reals), np.stack(fakes), seeds=args.rescore_seeds)
        rows.append({'iteration': it, 'c2st': found['accuracy'], 'c2st_std': found['std'],
                     **{k: v for k, v in hist.result().items() if k in VAL_COLUMNS}})
        print(f"{folder}: val at iteration {it}: c2st {found['accuracy']:.3f}", flush=True)
    with open(os.path.join(folder, VAL_RESCORED), 'w', newline='') as f:
        writer = csv.DictWriter(f, VAL_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    if args.records:
        shutil.copy2(os.path.join(folder, VAL_RESCORED), os.path.join(args.records, os.path.basename(folder), VAL_RESCORED))
    return True
