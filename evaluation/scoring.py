"""One scorer for evaluate.py and --eval_freq: every metric of the synthesized images against the real images of
the same label maps (keys, directions and formats: evaluation/metrics.py).

`Scorer.add` takes a batch (lists of H×W×3 uint8 images, their label maps, the generator's LBP codes, the
segmenter's ground truth); `Scorer.result` gives the numbers. evaluate.py feeds it the folder test.py wrote
(`score_folder`); --eval_freq the val images it has just synthesized (evaluation/during_training.py).
"""
import os

import numpy as np
from tqdm import tqdm

from evaluation import c2st, results, texture
from evaluation.dataset_labels import DatasetLabels
from evaluation.fid import FIDFeatures, fid_from_activations, kernel_inception_distance
from evaluation.histograms import HistogramDivergence
from evaluation.lbp_distance import LBPDistance
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
    """labelled: label maps come with the images (texture, colour and gradient divergences and their references);
    c2st: the classifier two-sample test on all the pairs at the end; references: the texture references of the
    real images; segmentation (SegmentationScores) and fid (FIDFeatures): the network metrics, or None."""

    def __init__(self, lbp_variant, labelled=True, c2st=True, references=True, segmentation=None, fid=None):
        self.lbp = LBPDistance(lbp_variant)
        self.tex = texture.TextureDivergence(lbp_variant) if labelled else None
        self.hist = HistogramDivergence() if labelled else None
        self.refs = texture.References(lbp_variant) if labelled and references else None
        self.pairs = [] if c2st else None
        self.seg, self.fid = segmentation, fid

    def add(self, fakes, reals, labels=None, lbps=None, truths=None):
        if self.fid is not None:
            self.fid.add(fakes, reals)
        if self.seg is not None:
            self.seg.add(fakes, truths)
        for i, (fake, real) in enumerate(zip(fakes, reals)):
            real = results.same_size(real, fake.shape)
            self.lbp.add(fake, real, None if lbps is None else lbps[i])
            if self.tex is not None:
                self.tex.add(fake, real, labels[i])
                self.hist.add(fake, real, labels[i])
                if self.refs is not None:
                    self.refs.add(real, labels[i])
            if self.pairs is not None:
                self.pairs.append((real, fake))

    def result(self, notes):
        """The metrics (None where not computed, with the reason in notes) and the per-class values."""
        values = {'fid': None, 'kid': None, 'kid_std': None, 'miou': None, 'accuracy': None, **self.lbp.result(),
                  'texture_js': None, 'texture_js_riu2': None, 'colour_js': None, 'gradient_js': None,
                  'c2st': None, 'c2st_grey': None}
        if self.tex is not None:
            values.update(self.tex.result(), **self.hist.result())
            if values['texture_js'] is None:
                notes['texture'] = 'n/a: no pixel away from a class boundary'
            if self.refs is not None:
                values['texture_references'] = self.refs.result()
                values['texture_position'] = texture.position(values['texture_js'], values['texture_references'])
        if self.pairs is None:
            notes['c2st'] = 'skipped'
        elif len(self.pairs) < 2 * c2st.BLOCK:
            notes['c2st'] = f'n/a: fewer than {2 * c2st.BLOCK} images'
        else:
            values.update(c2st.scores(*zip(*self.pairs)))
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
