"""Every metric over the folder test.py wrote, batch by batch: FID/KID features, the segmentation
confusion matrix, the texture and colour/gradient histograms and the pixel-aligned LBP distances; then the
numbers, and the classifier two-sample test on all the images at once."""
import os

import numpy as np
from tqdm import tqdm

from evaluation import results
from evaluation.dataset_labels import DatasetLabels
from evaluation.fid import FIDFeatures
from evaluation import c2st, texture
from evaluation.histograms import HistogramDivergence
from evaluation.lbp_distance import LBPDistance
from evaluation.segmentation import confusion_matrix, label_space, mean_iou, pixel_accuracy


class SegmentationScores:
    """The confusion matrix of the segmenter's predictions on the synthesized images.

    native: images as synthesized, against label_ids/ (the label map the model saw);
    original: images upsampled to the dataset's label file, against that file (DatasetLabels).
    """

    def __init__(self, cfg, segmenter, device, images_dir):
        self.segmenter, self.device, self.images_dir = segmenter, device, images_dir
        self.num_classes, self.to_scored = label_space(cfg.dataset_mode, segmenter.num_classes)
        self.rule = cfg.miou_rule
        self.dataset_labels = DatasetLabels(cfg) if cfg.seg_size == 'original' else None
        self.conf = np.zeros((self.num_classes, self.num_classes), np.int64)

    def ground_truth(self, stem, shape):
        if self.dataset_labels is None:
            return results.label_ids(self.images_dir, stem, shape)
        return self.dataset_labels.read(stem)

    def add(self, stems, images):
        labels = [self.to_scored(self.ground_truth(s, im.shape[:2])) for s, im in zip(stems, images)]
        for group in results.batches_of_same_shape([(im.shape, lb.shape) for im, lb in zip(images, labels)]):
            rgb = results.to_tensor([images[i] for i in group]).to(self.device)
            pred = self.segmenter.predict(rgb, size=labels[group[0]].shape).cpu().numpy()
            for p, i in zip(pred, group):
                self.conf += confusion_matrix(labels[i], p, self.num_classes)

    def result(self):
        return {'miou': _none_if_nan(mean_iou(self.conf, self.rule)),
                'accuracy': _none_if_nan(pixel_accuracy(self.conf))}


def _none_if_nan(v):
    return None if v != v else v


def score_folder(cfg, images_dir, stems, nets, notes):
    """The metric values of the stems' images; nets = (inception or None, segmenter or None, device)."""
    inception, segmenter, device = nets
    fid = FIDFeatures(inception, device) if inception is not None else None
    seg = SegmentationScores(cfg, segmenter, device, images_dir) if segmenter is not None else None
    lbp = LBPDistance(cfg.lbp_variant)
    has_labels = os.path.isdir(os.path.join(images_dir, 'label_ids'))
    tex = texture.TextureDivergence(cfg.lbp_variant) if has_labels else None
    refs = texture.References(cfg.lbp_variant) if has_labels else None
    hist = HistogramDivergence() if has_labels else None
    pairs = [] if not cfg.no_c2st else None  # (real, synthesized): the C2ST trains on all of them
    for start in tqdm(range(0, len(stems), cfg.batchSize), desc='evaluate', unit='batch'):
        batch = stems[start:start + cfg.batchSize]
        synth = [results.read_rgb(images_dir, 'synthesized_image', s) for s in batch]
        real = [results.read_rgb(images_dir, 'real_image', s) for s in batch]
        if fid is not None:
            fid.add(synth, real)
        if seg is not None:
            seg.add(batch, synth)
        for stem, fake, true in zip(batch, synth, real):
            lbp.add(fake, true, results.generated_lbp(images_dir, stem, fake.shape[:2]))
            if tex is not None:
                true, labels = results.same_size(true, fake.shape), results.label_ids(images_dir, stem, fake.shape[:2])
                tex.add(fake, true, labels)
                hist.add(fake, true, labels)
                refs.add(true, labels)
            if pairs is not None:
                pairs.append((results.same_size(true, fake.shape), fake))
    values = {'fid': None, 'kid': None, 'kid_std': None, 'miou': None, 'accuracy': None, **lbp.result(),
              'texture_js': None, 'texture_js_riu2': None, 'colour_js': None, 'gradient_js': None,
              'c2st': None, 'c2st_grey': None}
    if tex is not None:
        values.update(tex.result())
        values.update(hist.result())
        if values['texture_js'] is None:
            notes['texture'] = 'n/a: no pixel away from a class boundary'
        values['texture_references'] = refs.result()
        values['texture_position'] = texture.position(values['texture_js'], values['texture_references'])
    else:
        notes['texture'] = f"n/a: {os.path.join(images_dir, 'label_ids')} missing (test.py writes it)"
    if pairs is None:
        notes['c2st'] = 'skipped (--no_c2st)'
    elif len(pairs) < 2 * c2st.BLOCK:
        notes['c2st'] = f'n/a: fewer than {2 * c2st.BLOCK} images'
    else:
        values.update(c2st.scores(*zip(*pairs)))
    if fid is not None:
        values.update(fid.result(notes))
    if seg is not None:
        values.update(seg.result())
    return values
