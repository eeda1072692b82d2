"""The markdown results table, one row per experiment, from the metrics.json evaluate.py wrote.

evaluate.py prints the header and its own row; scripts/common.sh prints the table of several runs:

    python -m evaluation.table RESULTS_DIR NAME... [--run val_latest] [--protocol]

The columns are the metrics their modules mark for the table (evaluation/metrics.py). The mIoU cell names its
rule, e.g. `38.50 (all)`; a missing number shows why, from the notes ("n/a: weights missing", "skipped"). Below the model rows, the texture references of the first
evaluated run's real images (evaluation/texture.py), so every texture number has its scale beside it.
"""
import argparse
import json
import os

from evaluation.metrics import all_metrics
from evaluation.texture import position


def columns():
    """The table's metrics: those their modules mark for it (evaluation/metrics.py), in their order."""
    return [(k, m) for k, m in all_metrics().items() if m.table]


HEADER = ('| model | ' + ' | '.join(m.label for _, m in columns()) + ' |', '|' + ' --- |' * (len(columns()) + 1))
REFERENCE_LABELS = {'texture_free': 'reference: texture-free (segment mean colours)',
                    'noise': 'reference: texture-free + grey noise σ 8', 'blurred': 'reference: real blurred σ 1.5',
                    'real_vs_real': 'reference: real vs real (even vs odd images)'}


def _cell(metrics, key, metric):
    value = metrics.get(key)
    if value is not None:
        return f'{value * metric.scale:.{metric.digits}f}{metric.unit}'
    why = metrics.get('notes', {}).get(metric.note or key) or 'n/a'
    return why.split(' (')[0]  # "n/a: weights missing (long path...)" -> "n/a: weights missing"


def row(name, metrics):
    """One table row of a metrics dict (None: not evaluated). The mIoU cell names its rule."""
    if metrics is None:
        return f'| {name} | not evaluated |' + ' |' * (len(columns()) - 1)
    cells = [_cell(metrics, k, m) for k, m in columns()]
    rule = metrics.get('protocol', {}).get('miou_rule')  # absent in files of older versions
    if metrics.get('miou') is not None and rule:
        cells[[k for k, _ in columns()].index('miou')] += f' ({rule})'
    return f"| {name} | {' | '.join(cells)} |"


def reference_rows(metrics):
    """The texture references' rows (data only: the other cells are empty), or [] without them."""
    refs = (metrics or {}).get('texture_references') or {}
    lines = []
    for name, values in refs.items():
        values = {**values, 'texture_position': position(values['texture_js'], refs)}
        cells = [_cell(values, k, m) if k in values and values[k] is not None else '' for k, m in columns()]
        lines.append(f"| {REFERENCE_LABELS[name]} | {' | '.join(cells)} |")
    return lines


def load(results_dir, name, run='val_latest'):
    """The metrics.json of one experiment, or None when it was not evaluated."""
    path = os.path.join(results_dir, name, run, 'metrics.json')
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def table(results_dir, names, run='val_latest', protocol=False):
    """The table of the experiments; protocol=True adds each one's protocol line below it."""
    loaded = [(name, load(results_dir, name, run)) for name in names]
    first = next((m for _, m in loaded if m), None)
    lines = [*HEADER, *(row(name, metrics) for name, metrics in loaded), *reference_rows(first)]
    if protocol:
        lines += [''] + [f"{name}: {m['protocol_line']}" for name, m in loaded if m and 'protocol_line' in m]
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('results_dir')
    p.add_argument('names', nargs='+', help='experiment names: RESULTS_DIR/<name>/<run>/metrics.json')
    p.add_argument('--run', default='val_latest', help='<phase>_<epoch> folder of each experiment')
    p.add_argument('--protocol', action='store_true', help="each experiment's protocol line below the table")
    args = p.parse_args(argv)
    print(table(args.results_dir, args.names, args.run, args.protocol))


if __name__ == '__main__':
    main()
