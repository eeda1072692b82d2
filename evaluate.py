"""Score the images test.py wrote: FID, KID, mIoU / pixel accuracy and LBP distance.

    python evaluate.py --name NAME --dataset_mode cityscapes|ade20k|coco|custom|demo
        [--results_dir ./results --phase val --which_epoch latest] [--segmenter drn|upernet|deeplabv2|small]
        [--fid_weights P] [--seg_weights P] [--no_fid] [--no_seg] [--allow_missing]
        [--gpu_ids -1] [--batchSize 8]

Reads results/<name>/<phase>_<epoch>/images/ with sub-folders synthesized_image/, real_image/,
label_ids/ (the label ids the model saw: ADE20K 0..149 + 150 dontcare, COCO 0..181 + 182 dontcare,
Cityscapes raw ids 0..33) and synthesized_lbp/ (the generated LBP codes), matched by file stem.
Writes metrics.json next to images/ and prints a markdown table row.

- FID / KID: Inception pool3 features of synthesized vs real images.
- mIoU / acc: the dataset's segmenter (see evaluation/segmenters) run on the synthesized images
  against label_ids; dontcare pixels are ignored, Cityscapes ids are mapped to the 19 train ids.
- LBP dist: mean |LBP(synthesized) - LBP(real)| / 255 over pixels, LBP as util.lbp computes it;
  LBP map dist: the same with the generator's own LBP map (synthesized_lbp) in place of
  LBP(synthesized), when that folder exists.
Missing weight files are errors; with --allow_missing the metric is reported as n/a instead.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from evaluation import fid as fidlib
from evaluation.inception import load_fid_inception
from evaluation.segmentation import (CITYSCAPES_CLASSES, cityscapes_train_ids, confusion_matrix, mean_iou,
                                     pixel_accuracy)
from evaluation.segmenters import DEFAULT_FOR_DATASET, NAMES, build_segmenter
from util.errors import UserError, exit_on_user_error
from util.lbp import lbp_from_rgb8

DATASET_CLASSES = {'cityscapes': CITYSCAPES_CLASSES, 'ade20k': 150, 'coco': 182}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--name', required=True, help='experiment name: results/<name>/')
    p.add_argument('--results_dir', default='./results')
    p.add_argument('--phase', default='val')
    p.add_argument('--which_epoch', default='latest')
    p.add_argument('--dataset_mode', required=True, choices=tuple(DEFAULT_FOR_DATASET))
    p.add_argument('--segmenter', choices=NAMES, default=None,
                   help='default: drn (cityscapes), upernet (ade20k), deeplabv2 (coco), small (demo/custom)')
    p.add_argument('--fid_weights', default='', help='pt_inception-2015-12-05-6726825d.pth (default: hub cache)')
    p.add_argument('--seg_weights', default=None,
                   help='segmenter weights (upernet: the folder with encoder/decoder_epoch_50.pth); default: '
                        'hub cache, or checkpoints/segmenter_<dataset_mode>.pth for small')
    p.add_argument('--no_fid', action='store_true', help='skip FID and KID')
    p.add_argument('--no_seg', action='store_true', help='skip mIoU and accuracy')
    p.add_argument('--allow_missing', action='store_true',
                   help='report a metric whose weights are missing as n/a instead of failing')
    p.add_argument('--gpu_ids', default='0', help="'-1' forces the CPU; otherwise CUDA when available")
    p.add_argument('--batchSize', type=int, default=8)
    opt = p.parse_args(argv)
    if opt.batchSize < 1:
        raise UserError(f"--batchSize {opt.batchSize}: must be at least 1")
    opt.segmenter = opt.segmenter or DEFAULT_FOR_DATASET[opt.dataset_mode]
    if opt.seg_weights is None:
        opt.seg_weights = f'checkpoints/segmenter_{opt.dataset_mode}.pth' if opt.segmenter == 'small' else ''
    return opt


def pick_device(gpu_ids):
    ids = [int(i) for i in str(gpu_ids).split(',') if i.strip()]
    if ids and ids[0] >= 0 and torch.cuda.is_available():
        return torch.device('cuda', ids[0])
    return torch.device('cpu')


def list_stems(images_dir):
    """File stems of synthesized_image/*.png, each of which must have a real_image twin."""
    synth_dir = os.path.join(images_dir, 'synthesized_image')
    if not os.path.isdir(synth_dir):
        raise UserError(f"{synth_dir}: no such folder; run test.py with the same --name/--phase/--which_epoch "
                        f"first (or check --results_dir)")
    stems = sorted(f[:-4] for f in os.listdir(synth_dir) if f.endswith('.png'))
    if not stems:
        raise UserError(f"{synth_dir}: no .png images; run test.py first")
    missing = [s for s in stems if not os.path.isfile(os.path.join(images_dir, 'real_image', s + '.png'))]
    if missing:
        raise UserError(f"{os.path.join(images_dir, 'real_image', missing[0] + '.png')}: missing "
                        f"({len(missing)} real images missing); test.py writes real and synthesized images together")
    return stems


def read_rgb(path):
    return np.array(Image.open(path).convert('RGB'))  # a writable copy, as torch.from_numpy wants


def read_gray(path, size=None, resample=Image.NEAREST):
    """A label or code PNG (8 or 16 bit) as an int64 array, resized (nearest) to size=(W, H) if given."""
    img = Image.open(path)
    if size is not None and img.size != size:
        img = img.resize(size, resample)
    return np.asarray(img).astype(np.int64)


def to_tensor(rgb8_list):
    """Same-sized H×W×3 uint8 arrays -> N×3×H×W float tensor in [-1, 1]."""
    x = torch.from_numpy(np.stack(rgb8_list)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1


def same_size_groups(arrays):
    """Indices of arrays grouped by shape, so every group stacks into one batch."""
    groups = {}
    for i, a in enumerate(arrays):
        groups.setdefault(a.shape, []).append(i)
    return list(groups.values())


def load_or_skip(what, loader, allow_missing, notes, key):
    """loader() or None; a missing weight file fails unless --allow_missing, then it becomes a note."""
    try:
        return loader()
    except UserError as e:
        if not allow_missing:
            raise
        notes[key] = f"n/a: weights missing ({e})"
        print(f"{what}: {notes[key]}", file=sys.stderr)
        return None


class Accumulator:
    """Running sums of everything measured batch by batch."""

    def __init__(self, num_classes):
        self.fake_acts, self.real_acts = [], []
        self.conf = np.zeros((num_classes, num_classes), np.int64) if num_classes else None
        self.lbp = [0.0, 0]  # sum of |difference| in codes, pixel count
        self.lbp_map = [0.0, 0]


def evaluate_batch(stems, opt, images_dir, nets, acc):
    inception, segmenter, device = nets
    synth = [read_rgb(os.path.join(images_dir, 'synthesized_image', s + '.png')) for s in stems]
    real = [read_rgb(os.path.join(images_dir, 'real_image', s + '.png')) for s in stems]
    if inception is not None:
        for images, out in ((synth, acc.fake_acts), (real, acc.real_acts)):
            for group in same_size_groups(images):
                out.append(fidlib.activations(inception, [to_tensor([images[i] for i in group])], device))
    if segmenter is not None:
        for group in same_size_groups(synth):
            pred = segmenter.predict(to_tensor([synth[i] for i in group]).to(device)).cpu().numpy()
            for p, i in zip(pred, group):
                acc.conf += confusion_matrix(ground_truth(images_dir, stems[i], p.shape, opt), p,
                                             len(acc.conf))
    for s, fake, true in zip(stems, synth, real):
        add_lbp_distances(images_dir, s, fake, true, acc)


def ground_truth(images_dir, stem, shape, opt):
    path = os.path.join(images_dir, 'label_ids', stem + '.png')
    if not os.path.isfile(path):
        raise UserError(f"{path}: missing; test.py writes label_ids/ next to synthesized_image/ "
                        f"(or pass --no_seg)")
    label = read_gray(path, size=(shape[1], shape[0]))
    return cityscapes_train_ids(label) if opt.dataset_mode == 'cityscapes' else label


def add_lbp_distances(images_dir, stem, fake, real, acc):
    if real.shape != fake.shape:  # compare at the synthesized size
        real = np.array(Image.fromarray(real).resize((fake.shape[1], fake.shape[0]), Image.BICUBIC))
    real_codes = lbp_from_rgb8(real).astype(np.int64)
    acc.lbp[0] += np.abs(lbp_from_rgb8(fake).astype(np.int64) - real_codes).sum()
    acc.lbp[1] += real_codes.size
    lbp_path = os.path.join(images_dir, 'synthesized_lbp', stem + '.png')
    if os.path.isfile(lbp_path):
        codes = read_gray(lbp_path, size=(fake.shape[1], fake.shape[0]))
        acc.lbp_map[0] += np.abs(codes - real_codes).sum()
        acc.lbp_map[1] += real_codes.size


def fid_metrics(acc, notes):
    fake, real = np.concatenate(acc.fake_acts), np.concatenate(acc.real_acts)
    if min(len(fake), len(real)) < 2:
        notes['fid'] = notes['kid'] = 'n/a: FID and KID need at least 2 images'
        return {'fid': None, 'kid': None, 'kid_std': None}
    kid, kid_std = fidlib.kernel_inception_distance(fake, real)
    return {'fid': fidlib.fid_from_activations(fake, real), 'kid': kid, 'kid_std': kid_std}


def _mean_distance(total_count):
    total, count = total_count
    return float(total) / count / 255.0 if count else None


def finish(acc, opt, stems, notes):
    metrics = {'name': opt.name, 'phase': opt.phase, 'which_epoch': opt.which_epoch,
               'dataset_mode': opt.dataset_mode, 'num_images': len(stems),
               'fid': None, 'kid': None, 'kid_std': None,
               'segmenter': None if opt.no_seg else opt.segmenter, 'miou': None, 'accuracy': None,
               'lbp_distance': _mean_distance(acc.lbp), 'lbp_map_distance': _mean_distance(acc.lbp_map)}
    if acc.fake_acts:
        metrics.update(fid_metrics(acc, notes))
    if acc.conf is not None:
        metrics['miou'] = _nan_to_none(mean_iou(acc.conf))
        metrics['accuracy'] = _nan_to_none(pixel_accuracy(acc.conf))
    if opt.no_fid:
        notes['fid'] = notes['kid'] = 'skipped (--no_fid)'
    if opt.no_seg:
        notes['seg'] = 'skipped (--no_seg)'
    metrics['notes'] = notes
    return metrics


def _nan_to_none(v):
    return None if v != v else v


def write_json(path, obj):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)  # never leave a half-written metrics.json behind


def table_row(m):
    def fmt(v, spec, scale=1.0):
        return 'n/a' if v is None else format(v * scale, spec)
    return (f"| {m['name']} | {fmt(m['fid'], '.2f')} | {fmt(m['kid'], '.4f')} | {fmt(m['miou'], '.1f', 100)} | "
            f"{fmt(m['accuracy'], '.1f', 100)} | {fmt(m['lbp_distance'], '.4f')} |")


def load_networks(opt, device, notes):
    inception = segmenter = None
    if not opt.no_fid:
        inception = load_or_skip('FID/KID', lambda: load_fid_inception(opt.fid_weights),
                                 opt.allow_missing, notes, 'fid')
    if not opt.no_seg:
        segmenter = load_or_skip(
            'mIoU', lambda: build_segmenter(opt.segmenter, DATASET_CLASSES.get(opt.dataset_mode), opt.seg_weights),
            opt.allow_missing, notes, 'seg')
    return (None if inception is None else inception.to(device),
            None if segmenter is None else segmenter.to(device), device)


def main(argv=None):
    opt = parse_args(argv)
    run_dir = os.path.join(opt.results_dir, opt.name, f'{opt.phase}_{opt.which_epoch}')
    images_dir = os.path.join(run_dir, 'images')
    stems = list_stems(images_dir)
    notes = {}
    nets = load_networks(opt, pick_device(opt.gpu_ids), notes)
    acc = Accumulator(None if nets[1] is None else nets[1].num_classes)
    for start in tqdm(range(0, len(stems), opt.batchSize), desc='evaluate', unit='batch'):
        evaluate_batch(stems[start:start + opt.batchSize], opt, images_dir, nets, acc)
    metrics = finish(acc, opt, stems, notes)
    write_json(os.path.join(run_dir, 'metrics.json'), metrics)
    print('| name | FID | KID | mIoU | acc | LBP dist |\n| --- | --- | --- | --- | --- | --- |')
    print(table_row(metrics))
    return metrics


if __name__ == '__main__':
    exit_on_user_error(main)
