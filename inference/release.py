"""A trained run exported as a release folder (models/release.py's format): export.py's work.

`export` loads the run's <which_epoch>.pth (older files too, through TrainedRun), writes its generator
side as model.safetensors and config.json, then the model card (inference/model_card.py), last: the
card's sha256 is what makes the folder whole. With half=True the weights are stored as float16 only
if the run's images come out within one grey level (image and LBP map): measured on the CamVid run
of docs/PERFORMANCE.md, bfloat16 was not (2 grey levels on 334 val+test maps), float16 was.
"""
import os
import time

import numpy as np
import torch

import data
from data import palettes
from inference.model_card import model_card
from inference.synthesizer import Synthesizer
from models import release
from util.checkpoint import save_text
from util.errors import UserError

HALF = torch.float16
TOLERANCE = 1  # grey levels


def label_files(run, phase):
    """The label files of the run's dataset split (opt.json's dataroot), or [] when they are not there."""
    config = run.config
    where = data.location(config.dataset_mode, run.fixed())
    root = where.get('root') or where.get('label_dir')
    if not root or not os.path.isdir(root) or not os.listdir(root):  # (the demo would generate its data)
        return []
    try:
        dataset = data.open_dataset(config.dataset_mode, phase, where, config.label_nc, config.contain_dontcare_label,
                                    instances=False, pairing_check=False)
    except UserError:
        return []
    return dataset.label_paths


def check_maps(synth, count):
    """(N×H×W model ids, where they come from): the run's val, then test, label maps, up to count; else
    count generated maps (rectangles of the model's classes)."""
    paths = (label_files(synth.run, 'val') + label_files(synth.run, 'test'))[:count]
    if paths:
        ids = [synth.fit(synth.read_labels(p), p, check=False)[0] for p in paths]
        return np.stack(ids), f"{len(paths)} of the run's val/test label maps"
    classes = np.array([i for i, _, _ in synth.classes()])
    w, h = synth.size
    rng = np.random.default_rng(0)
    maps = []
    for _ in range(count):
        ids = np.full((h, w), rng.choice(classes), np.int64)
        for _ in range(8):
            x0, x1 = sorted(rng.integers(0, w, 2))
            y0, y1 = sorted(rng.integers(0, h, 2))
            ids[y0:y1 + 1, x0:x1 + 1] = rng.choice(classes)
        maps.append(ids)
    return np.stack(maps), f"{count} generated label maps (the run's data is not at hand)"


def round_weights(model, dtype):
    """model's weights as dtype would store them (rounded, back in float32), in place."""
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            if t.is_floating_point():
                t.copy_(t.to(dtype).float())


def differences(before, after):
    """The largest grey-level difference between two Results, image and LBP map."""
    pairs = [(before.image, after.image)] + ([(before.lbp, after.lbp)] if before.lbp is not None else [])
    return max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in pairs)


def check_half(synth, count):
    """Round synth's weights to float16 in place if the run's images stay within TOLERANCE grey levels
    -> what was measured (one line); else a UserError saying so."""
    ids, what = check_maps(synth, count)
    before = synth(ids, seed=0)
    round_weights(synth.model, HALF)
    worst = differences(before, synth(ids, seed=0))
    if worst > TOLERANCE:
        raise UserError(f"--half refused: float16 weights change {synth.run.path}'s images by up to {worst} grey "
                        f"levels on {what} (more than {TOLERANCE}); export without --half (float32)")
    return f"float16 weights reproduce the run's images within {worst} grey level(s) on {what}"


def refuse_out(out, run):
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"--out {out}: is a file, not a folder; name a folder (it is made if missing)")
    if os.path.isdir(out) and any(f.endswith('.pth') for f in os.listdir(out)):
        raise UserError(f"--out {out}: holds .pth checkpoints (a training run's folder); export to a folder of its own")
    if os.path.abspath(out) == os.path.abspath(run.folder):
        raise UserError(f"--out {out}: is the run's own folder; export to a folder of its own")


def labels_info(config):
    palette = palettes.official(config) or palettes.labels(config)
    return {'dataset_mode': config.dataset_mode, 'palette': palette.title,
            'classes': [[i, name, list(colour)] for i, name, colour in palette.entries]}


def export(folder, out, which_epoch='latest', half=False, results_dir='./results', check_count=100):
    """The run in folder (checkpoints/<name>) as a release in out -> a summary (lines to print)."""
    start = time.perf_counter()
    if release.is_release(folder):
        raise UserError(f"{folder}: is a release already; export a run's checkpoints/<name>")
    synth = Synthesizer(folder, device='cpu', which_epoch=which_epoch, batch_size=8)
    run = synth.run
    refuse_out(out, run)
    checked = check_half(synth, check_count) if half else None
    state = run.state
    info = {'labels': labels_info(synth.config),
            'trained': {'run': run.name, 'checkpoint': os.path.basename(run.path), 'iteration': state.get('iteration'),
                        'epochs_complete': state.get('epoch', 1) - 1}}
    os.makedirs(out, exist_ok=True)
    sha = release.write_release(out, synth.model, info, HALF if half else torch.float32)
    weights = os.path.join(out, release.WEIGHTS)
    card = model_card(run, synth.model, sha, os.path.getsize(weights), results_dir, checked)
    save_text(os.path.join(out, release.CARD), card)
    return [f"{run.path} -> {out}: {release.WEIGHTS} ({os.path.getsize(weights) / 1e6:.1f} MB, "
            f"{'float16' if half else 'float32'}), {release.CONFIG}, {release.CARD}",
            *([checked] if checked else []),
            f"sha256 {sha} ({time.perf_counter() - start:.1f} s)"]
