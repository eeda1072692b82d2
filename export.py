"""Export a trained run as a release folder that any checkout loads without the run:

    python export.py --name camvid --out release/camvid [--checkpoints_dir DIR] [--which_epoch E] [--half]

Writes <out>/model.safetensors (the generators' weights only; no pickle), <out>/config.json (the model's
config, its classes) and <out>/README.md (a model card with the dataset's licence, the training, the
recorded scores and the weights' sha256). --half stores float16 weights (half the size) only if they
give the run's images within one grey level; otherwise it refuses. `generate.py --model <out>`,
`serve.py --model <out>`, `Synthesizer(<out>)` and torch.hub (hubconf.py) load it.
"""
import argparse
import os
import sys

from inference.release import export
from util.errors import UserError, exit_on_user_error


def parse(args=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--name', required=True, help='the run: checkpoints/<name>/')
    p.add_argument('--checkpoints_dir', default='./checkpoints')
    p.add_argument('--which_epoch', default='latest', help='<which_epoch>.pth of the run')
    p.add_argument('--out', required=True, metavar='DIR', help='the release folder (made if missing)')
    p.add_argument('--half', action='store_true',
                   help="float16 weights, if they reproduce the run's images within one grey level")
    p.add_argument('--check_maps', type=int, default=100,
                   help="label maps --half is checked on: the run's val/test ones, else generated ones")
    p.add_argument('--results_dir', default='./results', help="where evaluate.py's metrics.json of the run are")
    return p.parse_args(args)


def main(args=None):
    a = parse(args)
    if a.check_maps < 1:
        raise UserError(f"--check_maps {a.check_maps}: must be at least 1")
    summary = export(os.path.join(a.checkpoints_dir, a.name), a.out, a.which_epoch, a.half, a.results_dir,
                     a.check_maps)
    print('\n'.join(summary))


if __name__ == '__main__':
    sys.exit(exit_on_user_error(main))
