"""Segmentation scores: the label space each dataset is scored in (its dataset class's SCORED_IDS), the
confusion matrix, the three published mIoU rules (a dataset class's MIOU_RULE is its reference) and pixel
accuracy.

mIoU rules, each as its reference code computes it from the confusion matrix of the whole set:

| rule  | mean over                                              | reference (dataset)                     |
| ----- | ------------------------------------------------------ | --------------------------------------- |
| union | classes in the ground truth or the prediction          | fyu/drn segment.py (Cityscapes)         |
| all   | every class; a class in neither counts as IoU 0        | CSAILVision eval.py (ADE20K)            |
| gt    | classes in the ground truth; one only predicted is out | kazuto1011 libs/utils/metric.py (COCO)  |

On a full validation set in which every class occurs the three agree; on subsets they do not.
"""
from functools import partial

import numpy as np

import data
from evaluation.metrics import Metric

IGNORE = 255

MIOU_RULES = ('union', 'all', 'gt')
ORDER = 4
KEYS = {'miou': Metric('mIoU', True, 2, 100, True, 'seg'), 'accuracy': Metric('acc', True, 2, 100, True, 'seg')}
DEFAULT_MIOU_RULE = data.ByMode('MIOU_RULE')  # mode -> its rule
RULE_MEANING = {'union': 'mean over classes with union > 0 (fyu/drn)',
                'all': 'mean over all classes, absent ones count 0 (CSAILVision)',
                'gt': 'mean over classes present in the ground truth (kazuto1011 deeplab-pytorch)'}


def label_space(dataset_mode, label_nc):
    """(classes scored, function: the dataset's label ids -> scored ids, IGNORE where not scored).

    A dataset scores its ids 0..label_nc-1, so its don't-care id and anything beyond are ignored, unless
    its class maps them to other ids (SCORED_IDS: Cityscapes' 35 label ids are scored as the 19 train ids
    that DRN-D-105 predicts).
    """
    table = data.dataset_class(dataset_mode).SCORED_IDS
    if table is None:
        return label_nc, partial(_ignore_outside, num_classes=label_nc)
    return len(set(table.values())), partial(_through_table, table=table)


def _through_table(label_ids, table):
    lookup = np.full(max(table) + 1, IGNORE, dtype=np.int64)
    for label_id, scored in table.items():
        lookup[label_id] = scored
    ids = np.asarray(label_ids)
    out = np.full(ids.shape, IGNORE, dtype=np.int64)
    inside = (ids >= 0) & (ids < len(lookup))
    out[inside] = lookup[ids[inside]]
    return out


def _ignore_outside(label_ids, num_classes):
    ids = np.asarray(label_ids).astype(np.int64)
    return np.where((ids >= 0) & (ids < num_classes), ids, IGNORE)


def confusion_matrix(gt, pred, num_classes):
    """num_classes² matrix (rows: ground truth, columns: prediction) over pixels whose ground
    truth is a class id 0..num_classes-1; every other value (255, the dontcare id) is ignored."""
    gt = np.asarray(gt).ravel().astype(np.int64)
    pred = np.asarray(pred).ravel().astype(np.int64)
    keep = (gt >= 0) & (gt < num_classes)
    # A prediction outside the class range cannot occur with a proper segmenter; clip so it
    # still counts as wrong instead of corrupting the matrix.
    pred = np.clip(pred[keep], 0, num_classes - 1)
    return np.bincount(gt[keep] * num_classes + pred, minlength=num_classes ** 2) \
        .reshape(num_classes, num_classes)


def per_class_iou(conf):
    """IoU per class, NaN where the class is in neither ground truth nor prediction."""
    conf = np.asarray(conf, dtype=np.float64)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0, inter / union, np.nan)


def mean_iou(conf, rule='union'):
    """mIoU of a confusion matrix under one of MIOU_RULES; NaN when no pixel was scored."""
    if not np.asarray(conf).sum():
        return float('nan')
    ious = per_class_iou(conf)
    if rule == 'all':
        counted = np.nan_to_num(ious, nan=0.0)
    elif rule == 'gt':
        counted = ious[np.asarray(conf).sum(1) > 0]
    elif rule == 'union':
        counted = ious[np.isfinite(ious)]
    else:
        raise ValueError(f"mIoU rule {rule!r}: choose one of {', '.join(MIOU_RULES)}")
    return float(counted.mean())


def pixel_accuracy(conf):
    conf = np.asarray(conf, dtype=np.float64)
    total = conf.sum()
    return float(np.trace(conf) / total) if total else float('nan')
