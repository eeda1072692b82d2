"""The soft-LBP temperature table of docs/METHOD.md: agreement with the hard LBP vs gradient size.

    python scripts/lbp_temperature.py [--variant classic|skimage]

For each temperature t: mean |soft - hard| (codes, 0..255) on scikit-image's photos and on a
flat image, the worst 99th percentile over them, and the mean |gradient| that the soft LBP
passes to a smooth, continuous (generated-like) image. The default t is the largest one whose
worst mean stays <= 1 code and worst 99th percentile <= 4 codes.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from skimage import data

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from util.lbp import VARIANTS, LBP  # noqa: E402

TEMPERATURES = (1.0, 0.5, 0.25, 0.15, 0.1, 0.09, 0.08, 0.06, 0.05, 0.03)
PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'camera')


def images():
    out = {}
    for name in PHOTOS:
        im = getattr(data, name)()
        out[name] = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
    out['flat'] = np.full((64, 64, 3), 128, np.uint8)
    return {k: torch.from_numpy(v).permute(2, 0, 1)[None].float() / 127.5 - 1 for k, v in out.items()}


def gradient_size(op):
    torch.manual_seed(0)
    x = F.interpolate(torch.rand(1, 3, 16, 16) * 2 - 1, size=(128, 128), mode='bicubic').clamp(-1, 1)
    x.requires_grad_()
    op.soft(x).sum().backward()
    return x.grad.abs().mean().item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--variant', default='classic', choices=VARIANTS)
    variant = p.parse_args().variant
    ims = images()
    print(f"| t | {' | '.join(ims)} | worst p99 | mean abs grad |")
    print('|' + ' --- |' * (len(ims) + 3))
    for t in TEMPERATURES:
        op = LBP(variant, t)
        gaps = {k: ((op.soft(x) - op.hard(x)).abs() * 127.5).flatten().numpy() for k, x in ims.items()}
        p99 = max(np.percentile(g, 99) for g in gaps.values())
        means = ' | '.join(f'{g.mean():.2f}' for g in gaps.values())
        print(f"| {t} | {means} | {p99:.2f} | {gradient_size(op):.3g} |")


if __name__ == '__main__':
    main()
