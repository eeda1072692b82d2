"""What evaluate.py does with its options: load the protocol's networks, score the folder test.py
wrote, write metrics.json next to images/ and return the metrics."""
import os
import sys

from evaluation import protocol, results
from evaluation.inception import load_fid_inception
from evaluation.scoring import score_folder
from evaluation.segmentation import label_space
from evaluation.segmenters import build_segmenter
from util import machine
from util.jsonfile import write_json
from util.weights import MissingWeights


def load_all(loaders, allow_missing, notes):
    """{key: loader() or None} for loaders = {key: (what, loader)}. Every weight file is looked for
    before any metric is computed: the missing ones (MissingWeights) are all named in one error,
    unless --allow_missing, which turns each into a note; a file that is there but wrong always fails."""
    loaded, missing = {}, {}
    for key, (what, loader) in loaders.items():
        try:
            loaded[key] = loader()
        except MissingWeights as e:
            loaded[key], missing[key] = None, e
    if missing and not allow_missing:
        if len(missing) == 1:
            raise MissingWeights(f"{next(iter(missing.values()))}; or pass --allow_missing to report it as n/a")
        listed = ' '.join(f"({i}) {loaders[k][0]}: {e}." for i, (k, e) in enumerate(missing.items(), 1))
        raise MissingWeights(f"{len(missing)} weight files are missing (pass --allow_missing to report their "
                             f"metrics as n/a): {listed}")
    for key, e in missing.items():
        notes[key] = f"n/a: weights missing ({e})"
        print(f"{loaders[key][0]}: {notes[key]}", file=sys.stderr)
    return loaded


def load_networks(cfg, device, notes):
    """(Inception or None, segmenter or None, device) as cfg asks."""
    loaders = {}
    if not cfg.no_fid:
        loaders['fid'] = ('FID/KID', lambda: load_fid_inception(cfg.fid_weights))
    if not cfg.no_seg:
        num_classes = label_space(cfg.dataset_mode, cfg.label_nc)[0]
        loaders['seg'] = ('mIoU', lambda: build_segmenter(cfg.segmenter, num_classes, cfg.seg_weights))
    nets = load_all(loaders, cfg.allow_missing, notes)
    inception, segmenter = nets.get('fid'), nets.get('seg')
    return (None if inception is None else inception.to(device),
            None if segmenter is None else segmenter.to(device), device)


def evaluate(cfg):
    """Score results/<name>/<phase>_<epoch>/; returns the metrics dict also written to metrics.json."""
    run_dir = results.run_dir(cfg.results_dir, cfg.name, cfg.phase, cfg.which_epoch)
    images_dir = os.path.join(run_dir, 'images')
    stems = results.list_stems(images_dir)
    notes = {}
    nets = load_networks(cfg, machine.device_for(cfg.gpu_ids), notes)
    metrics = {'name': cfg.name, 'phase': cfg.phase, 'which_epoch': cfg.which_epoch,
               'dataset_mode': cfg.dataset_mode, 'num_images': len(stems),
               **score_folder(cfg, images_dir, stems, nets, notes)}
    if cfg.no_fid:
        notes['fid'] = notes['kid'] = 'skipped (--no_fid)'
    if cfg.no_seg:
        notes['seg'] = 'skipped (--no_seg)'
    metrics['notes'] = notes
    metrics['protocol'] = protocol.describe(cfg, nets, len(stems), metrics.get('c2st') is not None)
    metrics['protocol_line'] = protocol.line(metrics['protocol'])
    write_json(os.path.join(run_dir, 'metrics.json'), metrics)
    return metrics
