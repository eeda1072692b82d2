"""One scorer for evaluate.py and --eval_freq: every metric of the synthesized images against the real images of
the same label maps (keys, directions and formats: evaluation/metrics.py).

`Scorer.add` takes a batch (lists of H×W×3 uint8 images, their label maps, the generator's LBP codes, the
segmenter's ground truth); `Scorer.result` gives the numbers. evaluate.py feeds it the folder test.py wrote
(`score_folder`); --eval_freq the val images it has just synthesized (evaluation/during_training.py).
"""
import os

import numpy as np
from tqdm import tqdm

from evaluation import results, texture
from evaluation.dataset_labels import DatasetLabels
from evaluation.fid import FIDFeatures, fid_from_activations, kernel_inception_distance
from evaluation.metrics import accumulators, all_metrics
from evaluation.segmentation import confusion_matrix, label_space, mean_iou, per_class_iou, pixel_accuracy


class SegmentationScores:
    """The confusion matrix of a segmenter's predictions on synthesized images against ground truth in its scored
    class ids; given the real images' pooled features, also FID and KID on the segmenter's features."""

    def __init__(self, segmenter, num_classes, rule, device, real_features=None):
        self.segmenter, self.num_classes, self.rule, self.device = segmenter, num_classes, rule, device
        self.real_features, self.features = real_features, []
        self.conf = np.zeros((num_classes, num_classes), np.int64)

    def add(self, images, truths):
        for group in results.batches_of_same_shape([(im.shape, gt.shape) for im, gt in zip(images, truths)]):
            rgb = results.to_tensor([images[i] for i in group]).to(self.device)
            pred = self.segmenter.predict(rgb, size=truths[group[0]].shape).cpu().numpy()
            for p, i in zip(pred, group):
                self.conf += confusion_matrix(truths[i], p, self.num_classes)
            if self.real_features is not None:
                self.features.append(self.segmenter.features(rgb).cpu().numpy())

    def result(self):
        out = {'miou': _none_if_nan(mean_iou(self.conf, self.rule)), 'accuracy': _none_if_nan(pixel_accuracy(self.conf)),
               'class_iou': {str(c): float(v) for c, v in enumerate(per_class_iou(self.conf)) if v == v}}
        if self.real_features is not None:
            fake = np.concatenate(self.features)
            out.update(fid_seg=fid_from_activations(fake, self.real_features),
                       kid_seg=kernel_inception_distance(fake, self.real_features)[0])
        return out


def _none_if_nan(v):
    return None if v != v else v


class Scorer:
    """labelled: label maps come with the images (the per-class divergences and the texture references);
    c2st: run the classifier two-sample test; references: the texture references of the real images;
    segmentation (SegmentationScores) and fid (FIDFeatures): the network metrics, or None. Every other metric
    module of evaluation/ that scores pairs (evaluation/metrics.py) is taken up by itself."""

    def __init__(self, lbp_variant, labelled=True, c2st=True, references=True, segmentation=None, fid=None):
        skip = () if c2st else ('evaluation.c2st',)
        self.parts = [m.Accumulator(lbp_variant) for m in accumulators()
                      if (labelled or not m.NEEDS_LABELS) and m.__name__ not in skip]
        self.refs = texture.References(lbp_variant) if labelled and references else None
        self.c2st, self.seg, self.fid = c2st, segmentation, fid

    def add(self, fakes, reals, labels=None, lbps=None, truths=None):
        if self.fid is not None:
            self.fid.add(fakes, reals)
        if self.seg is not None:
            self.seg.add(fakes, truths)
        for i, (fake, real) in enumerate(zip(fakes, reals)):
            real = results.same_size(real, fake.shape)
            label, lbp = None if labels is None else labels[i], None if lbps is None else lbps[i]
            for part in self.parts:
                part.add(fake, real, label, lbp)
            if self.refs is not None:
                self.refs.add(real, label)

    def result(self, notes):
        """Every metric's value (None where not computed, with the reason in notes) and the per-class values."""
        values = dict.fromkeys(all_metrics())
        for part in self.parts:
            values.update(part.result(notes))
        if not self.c2st:
            notes['c2st'] = 'skipped'
        if self.refs is not None:
            values['texture_references'] = self.refs.result()
            values['texture_position'] = texture.position(values['texture_js'], values['texture_references'])
        if self.fid is not None:
            values.update(self.fid.result(notes))
        if self.seg is not None:
            values.update(self.seg.result())
        return values


def ground_truth(cfg, segmenter_classes, images_dir):
    """(classes scored, truth(stem, shape)): the label map a result is scored against, in the segmenter's ids.
    --seg_size native: the label map the model saw (label_ids/); original: the dataset's label file."""
    num_classes, to_scored = label_space(cfg.dataset_mode, segmenter_classes)
    dataset_labels = DatasetLabels(cfg) if cfg.seg_size == 'original' else None

    def truth(stem, shape):
        return to_scored(results.label_ids(images_dir, stem, shape) if dataset_labels is None
                         else dataset_labels.read(stem))
    return num_classes, truth


def score_folder(cfg, images_dir, stems, nets, notes):
    """evaluate.py's metrics of the stems' images in the folder test.py wrote; nets = (inception or None,
    segmenter or None, device)."""
    inception, segmenter, device = nets
    has_labels = os.path.isdir(os.path.join(images_dir, 'label_ids'))
    seg = truth = None
    if segmenter is not None:
        num_classes, truth = ground_truth(cfg, segmenter.num_classes, images_dir)
        seg = SegmentationScores(segmenter, num_classes, cfg.miou_rule, device)
    scorer = Scorer(cfg.lbp_variant, has_labels, c2st=not cfg.no_c2st, segmentation=seg,
                    fid=FIDFeatures(inception, device) if inception is not None else None)
    for start in tqdm(range(0, len(stems), cfg.batchSize), desc='evaluate', unit='batch'):
        batch = stems[start:start + cfg.batchSize]
        fakes = [results.read_rgb(images_dir, 'synthesized_image', s) for s in batch]
        reals = [results.read_rgb(images_dir, 'real_image', s) for s in batch]
        shapes = [f.shape[:2] for f in fakes]
        scorer.add(fakes, reals,
                   labels=[results.label_ids(images_dir, s, sh) for s, sh in zip(batch, shapes)] if has_labels else None,
                   lbps=[results.generated_lbp(images_dir, s, sh) for s, sh in zip(batch, shapes)],
                   truths=[truth(s, sh) for s, sh in zip(batch, shapes)] if seg is not None else None)
    if not has_labels:
        notes['texture'] = f"n/a: {os.path.join(images_dir, 'label_ids')} missing (test.py writes it)"
    values = scorer.result(notes)
    if cfg.no_c2st:
        notes['c2st'] = 'skipped (--no_c2st)'
    values.pop('class_iou', None)  # (evaluate.py's metrics.json keeps the summary, as it did)
    return values
