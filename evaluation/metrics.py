"""Every number the evaluation reports, declared once: its label, whether higher is better, and how a table shows it.

evaluate.py's metrics.json, --eval_freq's eval_log.csv and the experiments' tables use these keys; a table
reads the label and format from here, so a new metric is its module, its entry here and its test.
"""
from collections import namedtuple

Metric = namedtuple('Metric', 'label higher_is_better digits scale')

METRICS = {
    'c2st': Metric('C2ST acc', False, 3, 1),  # 0.5: real and synthesized cannot be told apart
    'c2st_grey': Metric('C2ST grey acc', False, 3, 1),
    'colour_js': Metric('colour JS', False, 3, 1),
    'gradient_js': Metric('gradient JS', False, 3, 1),
    'texture_js': Metric('texture JS (bits)', False, 3, 1),
    'texture_sqrt_js': Metric('texture √JS', False, 3, 1),  # the Jensen–Shannon distance, a metric
    'texture_js_riu2': Metric('texture JS riu2', False, 3, 1),
    'miou': Metric('mIoU', True, 2, 100),
    'accuracy': Metric('acc', True, 2, 100),
    'fid_seg': Metric('FID (seg. features)', False, 2, 1),
    'kid_seg': Metric('KID (seg. features)', False, 2, 1000),
    'lbp_distance': Metric('LBP dist (pixel-aligned)', False, 3, 1),
    'fid': Metric('FID', False, 2, 1),
    'kid': Metric('KID', False, 4, 1),
}


def derived(values):
    """values with the numbers computed from others: texture √JS from texture JS."""
    js = values.get('texture_js')
    return {**values, 'texture_sqrt_js': None if js is None else js ** 0.5}


def shown(key, value):
    """A value as tables show it ('n/a' for None)."""
    m = METRICS[key]
    return 'n/a' if value is None else f'{value * m.scale:.{m.digits}f}'
