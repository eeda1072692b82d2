"""The ablation rows (experiments/rows.py) for the shell scripts.

scripts/common.sh reads them from here: `python scripts/ablation.py` lists the dataset rows,
`python scripts/ablation.py KEY` prints a row's options, `python scripts/ablation.py --params` counts the
parameters of the realism experiment's rows at CamVid's defaults.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from experiments.rows import DATASET_ROWS, REALISM_ROWS, ROWS, parameters  # noqa: E402


def main(args):
    if args[:1] == ['--params']:
        for row in REALISM_ROWS:
            g, d = parameters(row)
            print(f"{row}: G side {g / 1e6:.2f} M, D side {d / 1e6:.2f} M (CamVid defaults)")
    elif not args:
        print(' '.join(DATASET_ROWS))
    elif args[0] in ROWS:
        print(' '.join(ROWS[args[0]][1]))
    else:
        sys.exit(f"unknown ablation row '{args[0]}': one of {', '.join(ROWS)}")


if __name__ == '__main__':
    main(sys.argv[1:])
