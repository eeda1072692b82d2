"""What evaluate.py does with its options: load the protocol's networks, score the folder test.py
wrote, write metrics.json next to images/ and return the metrics."""
import json
import os
import sys


from evaluation import protocol, results
from evaluation.inception import load_fid_inception
from evaluation.scoring import score_folder
from evaluation.segmentation import label_space
from evaluation.segmenters import build_segmenter
from options.base_options import parse_gpu_ids, resolve_device
from util.weights import MissingWeights


def load_or_skip(what, loader, allow_missing, notes, key):
    """loader() or None; a missing weight file fails unless --allow_missing, then it becomes a note
    (a file that is there but wrong always fails)."""
    try:
        return loader()
    except MissingWeights as e:
        if not allow_missing:
            raise
        notes[key] = f"n/a: weights missing ({e})"
        print(f"{what}: {notes[key]}", file=sys.stderr)
        return None


def load_networks(cfg, device, notes):
    """(Inception or None, segmenter or None, device) as cfg asks."""
    inception = segmenter = None
    if not cfg.no_fid:
        inception = load_or_skip('FID/KID', lambda: load_fid_inception(cfg.fid_weights),
                                 cfg.allow_missing, notes, 'fid')
    if not cfg.no_seg:
        num_classes = label_space(cfg.dataset_mode, cfg.label_nc)[0]
        segmenter = load_or_skip('mIoU', lambda: build_segmenter(cfg.segmenter, num_classes, cfg.seg_weights),
                                 cfg.allow_missing, notes, 'seg')
    return (None if inception is None else inception.to(device),
            None if segmenter is None else segmenter.to(device), device)


def write_json(path, obj):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)  # never leave a half-written metrics.json behind


def evaluate(cfg):
    """Score results/<name>/<phase>_<epoch>/; returns the metrics dict also written to metrics.json."""
    run_dir = results.run_dir(cfg.results_dir, cfg.name, cfg.phase, cfg.which_epoch)
    images_dir = os.path.join(run_dir, 'images')
    stems = results.list_stems(images_dir)
    notes = {}
    nets = load_networks(cfg, resolve_device(parse_gpu_ids(cfg.gpu_ids)), notes)
    metrics = {'name': cfg.name, 'phase': cfg.phase, 'which_epoch': cfg.which_epoch,
               'dataset_mode': cfg.dataset_mode, 'num_images': len(stems),
               **score_folder(cfg, images_dir, stems, nets, notes)}
    if cfg.no_fid:
        notes['fid'] = notes['kid'] = 'skipped (--no_fid)'
    if cfg.no_seg:
        notes['seg'] = 'skipped (--no_seg)'
    metrics['notes'] = notes
    metrics['protocol'] = protocol.describe(cfg, nets, len(stems))
    metrics['protocol_line'] = protocol.line(metrics['protocol'])
    write_json(os.path.join(run_dir, 'metrics.json'), metrics)
    return metrics
