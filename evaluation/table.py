"""The markdown results table, one row per experiment, from the metrics.json evaluate.py wrote.

evaluate.py prints the header and its own row; scripts/common.sh prints the table of several runs:

    python -m evaluation.table RESULTS_DIR NAME... [--run val_latest] [--protocol]

The mIoU cell names its rule, e.g. `38.5 (all)`; a missing number shows why, from the notes
("n/a: weights missing", "skipped"). Below the model rows, the texture references of the first
evaluated run's real images (evaluation/texture.py), so every texture number has its scale beside it.
"""
import argparse
import json
import os

from evaluation.texture import position

HEADER = ('| model | mIoU | acc | texture JS | texture JS riu2 | texture: texture-free 0 % → real 100 % '
          '| LBP dist (pixel-aligned) | FID | KID |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
REFERENCE_LABELS = {'texture_free': 'reference: texture-free (segment mean colours)',
                    'noise': 'reference: texture-free + grey noise σ 8', 'blurred': 'reference: real blurred σ 1.5',
                    'real_vs_real': 'reference: real vs real (even vs odd images)'}


def _cell(metrics, key, spec, scale=1.0, note=None):
    value = metrics.get(key)
    if value is not None:
        return format(value * scale, spec)
    notes = metrics.get('notes', {})
    why = notes.get(note or key) or (notes.get('fid') if key == 'kid' else None) or 'n/a'
    return why.split(' (')[0]  # "n/a: weights missing (long path...)" -> "n/a: weights missing"


def row(name, metrics):
    """One table row of a metrics dict (None: not evaluated)."""
    if metrics is None:
        return f'| {name} | not evaluated |' + ' |' * (HEADER[1].count('---') - 2)
    miou = _cell(metrics, 'miou', '.1f', 100, 'seg')
    rule = metrics.get('protocol', {}).get('miou_rule')  # absent in files of older versions
    if metrics.get('miou') is not None and rule:
        miou += f' ({rule})'
    cells = [miou, _cell(metrics, 'accuracy', '.1f', 100, 'seg'), _cell(metrics, 'texture_js', '.3f', note='texture'),
             _cell(metrics, 'texture_js_riu2', '.3f', note='texture'), _cell(metrics, 'texture_position', '.0%', note='texture'),
             _cell(metrics, 'lbp_distance', '.4f'),
             _cell(metrics, 'fid', '.2f'), _cell(metrics, 'kid', '.4f')]
    return f"| {name} | {' | '.join(cells)} |"


def reference_rows(metrics):
    """The texture references' rows (data only: the other cells are empty), or [] without them."""
    refs = (metrics or {}).get('texture_references') or {}
    def js(v):  # None: no pixel of any class away from a class boundary
        return 'n/a' if v is None else f'{v:.3f}'
    def share(v):
        p = position(v['texture_js'], refs)
        return '' if p is None else f'{p:.0%}'
    return [f"| {REFERENCE_LABELS[k]} | | | {js(v['texture_js'])} | {js(v['texture_js_riu2'])} | {share(v)} | | | |"
            for k, v in refs.items()]


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
