"""Experiments with seeds and error bars: the command line of the experiments package (experiments/__init__.py
has the usage; experiments/plans.py the pre-registered plans)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from experiments.cli import main  # noqa: E402
from util.errors import exit_on_user_error  # noqa: E402

if __name__ == '__main__':
    exit_on_user_error(main)
