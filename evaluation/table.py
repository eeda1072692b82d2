"""The markdown results table, one row per experiment, from the metrics.json evaluate.py wrote.

evaluate.py prints the header and its own row; scripts/common.sh prints the table of several runs:

    python -m evaluation.table RESULTS_DIR NAME... [--run val_latest]

The mIoU cell names its rule, e.g. `38.5 (all)`; a missing number shows why, from the notes
("n/a: weights missing", "skipped").
"""
import argparse
import json
import os

HEADER = ('| model | mIoU | acc | LBP dist | FID | KID |', '| --- | --- | --- | --- | --- | --- |')


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
        return f'| {name} | not evaluated | | | | |'
    miou = _cell(metrics, 'miou', '.1f', 100, 'seg')
    rule = metrics.get('protocol', {}).get('miou_rule')  # absent in files of older versions
    if metrics.get('miou') is not None and rule:
        miou += f' ({rule})'
    return (f"| {name} | {miou} | {_cell(metrics, 'accuracy', '.1f', 100, 'seg')} | "
            f"{_cell(metrics, 'lbp_distance', '.4f')} | {_cell(metrics, 'fid', '.2f')} | {_cell(metrics, 'kid', '.4f')} |")


def table(results_dir, names, run='val_latest'):
    lines = list(HEADER)
    for name in names:
        path = os.path.join(results_dir, name, run, 'metrics.json')
        metrics = None
        if os.path.isfile(path):
            with open(path) as f:
                metrics = json.load(f)
        lines.append(row(name, metrics))
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('results_dir')
    p.add_argument('names', nargs='+', help='experiment names: RESULTS_DIR/<name>/<run>/metrics.json')
    p.add_argument('--run', default='val_latest', help='<phase>_<epoch> folder of each experiment')
    args = p.parse_args(argv)
    print(table(args.results_dir, args.names, args.run))


if __name__ == '__main__':
    main()
