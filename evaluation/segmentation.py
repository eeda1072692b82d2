"""Segmentation scores: confusion matrix, mIoU, pixel accuracy, Cityscapes id -> train id.

mIoU is the mean IoU over the classes that occur in the ground truth or in the prediction of the
evaluated set (union > 0); a class absent from both says nothing about the images and is left out
rather than counted as 0 or 1. This matches the usual "nanmean of per-class IoU" rule.
"""
import numpy as np

IGNORE = 255

# cityscapesscripts' labels.py: label id -> train id for ids 0..33; the 16 classes it does not
# evaluate (void, parking, rail track, guard rail, bridge, tunnel, polegroup, caravan, trailer, ...)
# map to 255.
_CITYSCAPES_TRAIN_IDS = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
    24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}
CITYSCAPES_CLASSES = 19


def cityscapes_train_ids(label_ids):
    """Array of Cityscapes label ids -> train ids 0..18, 255 for ignored and unknown ids."""
    table = np.full(256, IGNORE, dtype=np.uint8)
    for label_id, train_id in _CITYSCAPES_TRAIN_IDS.items():
        table[label_id] = train_id
    ids = np.asarray(label_ids)
    out = np.full(ids.shape, IGNORE, dtype=np.uint8)
    inside = (ids >= 0) & (ids < 256)
    out[inside] = table[ids[inside]]
    return out


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


def mean_iou(conf):
    ious = per_class_iou(conf)
    return float(np.nanmean(ious)) if np.isfinite(ious).any() else float('nan')


def pixel_accuracy(conf):
    conf = np.asarray(conf, dtype=np.float64)
    total = conf.sum()
    return float(np.trace(conf) / total) if total else float('nan')
