"""Every number the evaluation reports is declared by the module that computes it.

A metric module of evaluation/ declares `KEYS = {key: Metric(...)}` (label, whether higher is better, how a table
shows it) and its place among the others (`ORDER`); one that scores image pairs one at a time also has an
`Accumulator(lbp_variant)` with add(fake, real, labels, lbp) and result(notes), and says whether it needs the label
maps (`NEEDS_LABELS`). `modules()` finds them by reading evaluation/*.py, so a new metric is one file plus its test:
evaluate.py's metrics.json and table, --eval_freq's eval_log.csv and the experiments' tables take it up.
"""
import importlib
import os
from collections import namedtuple
from functools import lru_cache

# digits, scale, unit: how tables show the number; table: a column of evaluate.py's results table
# (evaluation/table.py); note: the key of metrics.json's notes that says why the number is missing
Metric = namedtuple('Metric', 'label higher_is_better digits scale table note unit', defaults=(3, 1, False, None, ''))
HERE = os.path.dirname(os.path.abspath(__file__))


@lru_cache(maxsize=None)
def modules():
    """The metric modules of evaluation/, in their ORDER."""
    found = []
    for name in sorted(os.listdir(HERE)):
        if name.endswith('.py') and name != 'metrics.py':
            with open(os.path.join(HERE, name), encoding='utf-8') as f:
                if '\nKEYS = {' in f.read():
                    found.append(importlib.import_module(f'evaluation.{name[:-3]}'))
    return tuple(sorted(found, key=lambda m: m.ORDER))


def all_metrics():
    """{key: Metric} of every metric, in display order."""
    return {k: v for m in modules() for k, v in m.KEYS.items()}


def accumulators():
    """The modules whose metric is scored image pair by image pair."""
    return [m for m in modules() if hasattr(m, 'Accumulator')]


def derived(values):
    """values with texture √JS from texture JS where an older record lacks it."""
    js, found = values.get('texture_js'), values.get('texture_sqrt_js')
    return {**values, 'texture_sqrt_js': found if found is not None or js is None else js ** 0.5}
