"""The final split's references, scored by evaluate.py exactly as the runs are: the real photos against themselves
(C2ST at chance; with the small segmenter, the mIoU ceiling) and renderings of them that every realism measure must
tell apart (evaluation/renderings.py: texture-free, blurred, noisy, grey, washed out). Each is a results folder
whose synthesized images are the rendering, made once from a run trained on this machine and kept."""
import os
import shutil

import numpy as np
from PIL import Image

from evaluation import renderings, results
from experiments.plans import EXPERIMENTS
from experiments.runs import final_dir, run
from util.jsonfile import read_json

NAMES = ('real_photos', 'texture_free', 'noise', 'blurred', 'grey', 'washed_out')
LABELS = {'real_photos': 'reference: real photos against themselves', 'texture_free': 'reference: texture-free',
          'noise': 'reference: texture-free + grey noise σ 8', 'blurred': 'reference: real blurred σ 1.5',
          'grey': 'reference: real in grey', 'washed_out': 'reference: washed out (25 % contrast)'}


def render(name, real, labels, rng):
    if name == 'real_photos':
        return real
    if name == 'noise':
        return renderings.noisy(real, labels, rng)
    return renderings.RENDERINGS[name](real, labels)


def make_folder(source, target, name):
    """results folder `target` holding `source`'s real images and labels and the rendering `name` as synthesized."""
    rng = np.random.default_rng(0)
    for kind in ('real_image', 'label_ids'):
        shutil.copytree(os.path.join(source, kind), os.path.join(target, kind), dirs_exist_ok=True)
    os.makedirs(os.path.join(target, 'synthesized_image'), exist_ok=True)
    for stem in sorted(f[:-4] for f in os.listdir(os.path.join(source, 'real_image')) if f.endswith('.png')):
        real = results.read_rgb(source, 'real_image', stem)
        labels = results.label_ids(source, stem, real.shape[:2])
        Image.fromarray(render(name, real, labels, rng)).save(os.path.join(target, 'synthesized_image', stem + '.png'))


def final_references(args, runs, seg_weights, names=NAMES):
    """{name: metrics.json} of the references on the final split ({} without a run trained here); made once."""
    phase = EXPERIMENTS[args.dataset]['final']
    if phase is None:
        return {}
    here = [r['folder'] for by_seed in runs.values() for r in by_seed.values()
            if os.path.isdir(results.images_dir(final_dir(args), os.path.basename(r['folder']), phase))]
    out = {}
    for name in names:
        path = os.path.join(results.run_dir(final_dir(args), name, phase), 'metrics.json')
        if not os.path.isfile(path) and here:
            source = results.images_dir(final_dir(args), os.path.basename(here[0]), phase)
            make_folder(source, os.path.join(os.path.dirname(path), 'images'), name)
            options = os.path.join(final_dir(args), 'options', name)
            os.makedirs(options, exist_ok=True)
            shutil.copy(os.path.join(here[0], 'opt.json'), options)
            seg = ['--segmenter', 'small', '--seg_weights', seg_weights] if name == 'real_photos' else ['--no_seg']
            run(['evaluate.py', '--name', name, '--checkpoints_dir', os.path.join(final_dir(args), 'options'),
                 '--results_dir', final_dir(args), '--phase', phase, *seg, '--no_fid', '--gpu_ids', '-1'])
        if os.path.isfile(path):
            out[name] = read_json(path)
    return out
