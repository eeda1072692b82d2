"""Synthesize images from your own label maps with a trained model: no dataroot, no photos needed.

    python generate.py --name demo --labels datasets/demo/gtFine/val
    python generate.py --name city --labels my_scene.png other/ --out pictures --seed 3
    python generate.py --name city_vae --labels my_scene.png --style photo.jpg
    python generate.py --model release/camvid --labels my_scene.png     # a release folder (export.py)

Each PATH is a label PNG or a folder of them (searched recursively; in a Cityscapes gtFine folder
only the *_gtFine_labelIds.png files). A label PNG holds class ids as the model's dataset stores
them, or the dataset's colours (data/palettes.py): detected, or --label_format ids|colors.
Everything about the model is what checkpoints/<name>/<which_epoch>.pth holds (its config: no
opt.json needed), or --model DIR's release (or run) folder. Writes <out>/<stem>_image.png and, when the
model has G_L, <stem>_lbp.png (default out: results/<name>/generated/, name = --name or DIR's name).
The Python API is inference/synthesizer.py's Synthesizer.
"""
import argparse
import os
import sys
import time

import numpy as np

from data import label_maps
from data.base_dataset import sample_key
from inference import Synthesizer, style_seed
from options.model_options import add_model_options, model_folder
from util import machine
from util.allocator import keep_freed_memory
from util.errors import UserError, exit_on_user_error, not_a_file
from util.images import save_png


def parse(args=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_options(p)
    p.add_argument('--labels', nargs='+', required=True, metavar='PATH', help='label PNGs and/or folders of them')
    p.add_argument('--instances', nargs='+', metavar='PATH', default=None,
                   help='instance maps (files or folders, matched by name), for a model with the instance channel; '
                        'without them each class region is one instance')
    p.add_argument('--label_format', default='auto', choices=('auto', 'ids', 'colors'),
                   help="what the label PNGs hold: the dataset's class ids or its colours (auto: colour RGB = colours)")
    p.add_argument('--out', default=None, help='output folder (default results/<name>/generated)')
    p.add_argument('--style', default=None, metavar='IMAGE', help='a photo whose style to use (--use_vae models)')
    p.add_argument('--seed', type=int, default=None, help='fixes the random styles of a --use_vae model')
    p.add_argument('--batchSize', type=int, default=1, help='label maps per forward pass')
    p.add_argument('--amp', default='none', choices=('none', 'bf16', 'fp16'), help='autocast dtype')
    return p.parse_args(args)


def output_stems(paths):
    """Output names: each file's sample name, with its folder prefixed where two would clash."""
    stems = [sample_key(p) for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    common = os.path.commonpath([os.path.abspath(p) for p in paths])
    return [os.path.relpath(os.path.abspath(os.path.splitext(p)[0]), common).replace(os.sep, '_') for p in paths]


def main(args=None):
    a = parse(args)
    if a.batchSize < 1:
        raise UserError(f"--batchSize {a.batchSize}: must be at least 1")
    device = machine.device_for(a.gpu_ids)
    keep_freed_memory(device)
    if a.style and a.seed is not None:
        print("--seed is not used with --style: the style is the photo's")
    folder, name = model_folder(a)
    synth = Synthesizer(folder, device=device, dtype=a.amp, which_epoch=a.which_epoch, batch_size=a.batchSize,
                        verify=not a.no_verify)
    if a.seed is not None and not synth.use_vae:
        print(f"--seed has no effect: {name} was trained without --use_vae, so its output has no random style")
    if a.style and not synth.use_vae:
        raise UserError(f"--style {a.style}: {folder} was trained without --use_vae, so it has no style "
                        f"encoder; leave --style out")
    paths = label_maps.list_inputs(a.labels)
    instances = label_maps.pair_instances(paths, a.instances) if a.instances else {}
    if instances and synth.config.no_instance:
        print(f"--instances ignored: {name} was trained with --no_instance")
        instances = {}
    out = a.out or os.path.join('results', name, 'generated')
    not_a_file(out, '--out')
    os.makedirs(out, exist_ok=True)
    w, h = synth.size
    print(f"{name}: {len(paths)} label maps -> {out} ({w}x{h}, {'with' if synth.has_lbp else 'no'} LBP map)")
    start, resized = time.time(), 0
    stems = output_stems(paths)
    for first in range(0, len(paths), a.batchSize):
        part = list(range(first, min(first + a.batchSize, len(paths))))
        ids, inst = [], []
        for i in part:
            fitted, before = synth.fit(label_maps.read_label_map(paths[i], synth.config, a.label_format).ids, paths[i])
            resized += before is not None
            ids.append(fitted)
            if paths[i] in instances:
                inst.append(synth.fit(label_maps.read_instance_map(instances[paths[i]]), instances[paths[i]],
                                      check=False)[0])
        # the seeds the whole run would give these images: the same file gets the same style whatever --batchSize
        seeds = None if a.seed is None else [style_seed(a.seed, i) for i in part]
        result = synth(np.stack(ids), np.stack(inst) if inst else None, style=a.style, seed=seeds)
        for k, i in enumerate(part):
            save_png(result.image[k], os.path.join(out, f'{stems[i]}_image.png'))
            if result.lbp is not None:
                save_png(result.lbp[k], os.path.join(out, f'{stems[i]}_lbp.png'))
    note = f" ({resized} resized)" if resized else ''
    print(f"{len(paths)} images{note} in {time.time() - start:.1f} s: {out}")


if __name__ == '__main__':
    sys.exit(exit_on_user_error(main))
