"""--eval_freq N: metrics of a fixed val subset during training, logged to TensorBoard and
checkpoints/<name>/eval_log.csv.

Every N iterations (and at --max_iters) the generator synthesizes the first --eval_num val scenes
in eval mode, as test.py does; the images are rounded to 8 bits, as test.py saves them, and scored:
- texture_js and texture_js_riu2 (always): the texture divergence from the real images of the same
  scenes (evaluation/texture.py), and its per-class values in eval_per_class.json;
- colour_js and gradient_js (always): per-class colour and gradient-magnitude histograms, not LBP
  (evaluation/histograms.py);
- c2st and c2st_grey (unless --no_eval_c2st, at least 16 scenes): the classifier two-sample test
  (evaluation/c2st.py), with the standard deviation over its classifier seeds;
- lbp_distance, and lbp_map_distance for models with G_L (always): pixel-aligned, not a texture metric
  (evaluation/lbp_distance.py);
- miou and accuracy of the small segmenter --eval_seg_weights (scripts/train_segmenter.py);
- fid_seg and kid_seg: FID and KID on that segmenter's pooled bottleneck features. The network
  has only seen the real images of this dataset; it is not Inception, so these numbers are for
  comparing runs on the same data and never comparable with published FIDs; per-class IoU in
  eval_per_class.json.
eval_references.json holds what the same scores give from the data alone, the scale of every row:
the texture references, the segmenter on the real images (the mIoU ceiling) and FID/KID of the
even-numbered real images against the odd-numbered ones (the floor; sets of half the size, so a
little above the floor of full sets: FID's bias grows as the sets shrink).
eval_per_class.json, per logged iteration: 'texture' keyed by the model's label id (don't-care
included: the model paints it too), 'iou' keyed by the segmenter's scored class id (for Cityscapes
layouts the train id, so road is 7 in one and 0 in the other).
"""
import copy
import csv
import os
import time

import numpy as np
import torch

import data
import util.amp as amp
from evaluation import results, texture
from evaluation.fid import fid_from_activations, kernel_inception_distance
from evaluation.metrics import all_metrics
from evaluation.scoring import Scorer, SegmentationScores
from evaluation.segmentation import DEFAULT_MIOU_RULE, label_space
from evaluation.segmenters import build_segmenter
from util.errors import UserError
from util.images import save_png, tensor2im
from util.jsonfile import read_json, write_json

# every metric evaluation/ declares (evaluation/metrics.py), those --eval_freq does not compute left empty
COLUMNS = ('iteration', 'epoch', 'lr_G', 'lr_D', *all_metrics(), 'seconds')


def read_log(folder):
    """The rows of <folder>/eval_log.csv as dicts of floats (None where a column is empty or was not logged yet:
    logs written before a column existed lack it)."""
    with open(os.path.join(folder, 'eval_log.csv')) as f:
        return [{k: float(v) if v not in ('', None) else None for k, v in r.items()} for r in csv.DictReader(f)]


def val_options(opt):
    """opt for reading the first --eval_num val scenes in a fixed order, as test.py reads them."""
    val = copy.copy(opt)
    val.phase, val.is_train, val.serial_batches, val.no_flip = 'val', False, True, True
    val.max_dataset_size, val.nThreads = opt.eval_num, 0
    return val


class TrainingEvaluator:
    def __init__(self, opt, model):
        if opt.eval_seg_weights and not os.path.isfile(opt.eval_seg_weights):
            raise UserError(f"--eval_seg_weights {opt.eval_seg_weights}: no such file; train one with `python "
                            f"scripts/train_segmenter.py --dataset_mode {opt.dataset_mode} --dataroot DIR --out FILE`, "
                            f"or leave the option out to log the texture and LBP distances only")
        self.opt, self.model = opt, model
        folder = os.path.join(opt.checkpoints_dir, opt.name)
        self.path = os.path.join(folder, 'eval_log.csv')
        self.per_class_path = os.path.join(folder, 'eval_per_class.json')
        self.batches = list(data.create_dataloader(val_options(opt)))  # a few MB at demo sizes
        self.segmenter = self.num_classes = None
        if opt.eval_seg_weights:
            self.num_classes, self.to_scored = label_space(opt.dataset_mode, opt.label_nc)
            self.segmenter = build_segmenter('small', self.num_classes, opt.eval_seg_weights).to(opt.device)
        self.real = [tensor2im(im) for b in self.batches for im in b['image']]
        self.labels = [lb[0].numpy().astype(np.int64) for b in self.batches for lb in b['label']]
        self.names = [results.stem_of(p) for b in self.batches for p in b['path']]
        self.truths = [self.to_scored(lb) for lb in self.labels] if self.segmenter else [None] * len(self.labels)
        self.real_features = self.features(self.real) if self.segmenter else None
        write_json(os.path.join(folder, 'eval_references.json'), self.references())

    def references(self):
        """The scores of the data alone (module docstring): the scale beside every logged row."""
        out = {'num_images': len(self.real), 'texture': texture.references(self.real, self.labels, self.opt.lbp_variant)}
        if self.segmenter is not None:
            real = SegmentationScores(self.segmenter, self.num_classes, DEFAULT_MIOU_RULE[self.opt.dataset_mode],
                                      self.opt.device)
            real.add(self.real, self.truths)
            real = real.result()
            even, odd = self.real_features[0::2], self.real_features[1::2]
            enough = len(odd) >= 2  # KID needs two images a set
            out.update(real_images={'miou': real['miou'], 'accuracy': real['accuracy']},
                       real_vs_real={'fid_seg': fid_from_activations(even, odd) if enough else None,
                                     'kid_seg': kernel_inception_distance(even, odd)[0] if enough else None})
        return out

    def features(self, images):
        return np.concatenate([self.segmenter.features(self._rgb(images[i:i + 16])).cpu().numpy()
                               for i in range(0, len(images), 16)])

    def _rgb(self, images):
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).to(self.opt.device)

    def keep_rows_until(self, iteration):
        """On resume: drop rows logged after the checkpoint (those iterations are trained again)."""
        per_class = read_json(self.per_class_path)
        if per_class is not None:
            write_json(self.per_class_path, {k: v for k, v in per_class.items() if int(k) <= iteration})
        if not os.path.isfile(self.path):
            return
        with open(self.path) as f:
            rows = [r for r in csv.DictReader(f) if int(r['iteration']) <= iteration]
        self._write(rows, 'w')

    def _write(self, rows, mode):
        new = mode == 'w' or not os.path.isfile(self.path)
        with open(self.path, mode, newline='') as f:
            writer = csv.DictWriter(f, COLUMNS)
            if new:
                writer.writeheader()
            writer.writerows(rows)

    @torch.no_grad()
    def synthesize(self):
        """-> (images, G_L's LBP codes or None) of the val subset, as H×W(×3) uint8 arrays."""
        was_training = self.model.training
        self.model.eval()
        images, lbps = [], []
        try:
            for batch in self.batches:
                with amp.autocast(self.opt):
                    out = self.model.generate(batch)
                images += [tensor2im(im) for im in out['synthesized_image']]
                if out['synthesized_lbp'] is not None:
                    lbps += [tensor2im(m) for m in out['synthesized_lbp']]
        finally:
            self.model.train(was_training)
        return images, lbps or None

    def __call__(self, iteration, epoch, rates, writer=None):
        """Score the val subset now; append the row to eval_log.csv and TensorBoard; return it."""
        start = time.time()
        images, lbps = self.synthesize()
        if self.opt.eval_keep_images:
            self.keep(iteration, images)
        seg = None
        if self.segmenter is not None:
            seg = SegmentationScores(self.segmenter, self.num_classes, DEFAULT_MIOU_RULE[self.opt.dataset_mode],
                                     self.opt.device, self.real_features)
        scorer = Scorer(self.opt.lbp_variant, c2st=not self.opt.no_eval_c2st, references=False, segmentation=seg)
        for i in range(0, len(images), 16):
            scorer.add(images[i:i + 16], self.real[i:i + 16], self.labels[i:i + 16],
                       None if lbps is None else lbps[i:i + 16], self.truths[i:i + 16])
        values = scorer.result({})
        per_class = {'texture': values.pop('texture_per_class'), 'histograms': values.pop('histogram_per_class')}
        if seg is not None:
            per_class['iou'] = values.pop('class_iou')
        row = {'iteration': iteration, 'epoch': epoch, 'lr_G': rates[0], 'lr_D': rates[1],
               **{k: v for k, v in values.items() if k in COLUMNS}}
        row['seconds'] = round(time.time() - start, 2)
        self._write([row], 'a')
        logged = read_json(self.per_class_path, {})
        write_json(self.per_class_path, {**logged, str(iteration): per_class})
        if writer is not None:
            for k, v in row.items():
                if k not in ('iteration', 'epoch', 'lr_G', 'lr_D', 'seconds') and v is not None:
                    writer.add_scalar(f'eval/{k}', v, iteration)
            writer.flush()
        return row

    def keep(self, iteration, images):
        """The synthesized val images as PNGs named by their scene, for scoring again later."""
        folder = os.path.join(self.opt.checkpoints_dir, self.opt.name, 'eval_images', str(iteration))
        os.makedirs(folder, exist_ok=True)
        for name, image in zip(self.names, images):
            save_png(image, os.path.join(folder, name + '.png'))
