"""The gradient table of docs/METHOD.md: how dense and how large the LBP surrogate gradient is.

    python scripts/lbp_grad_width.py [--variant classic|skimage] [--widths 0.5,1,2,4,8,16]

The LBP that D_L sees of a generated image is the exact hard LBP; its gradient is the derivative of
sigmoid((d + 0.5) / width) per bit, d the continuous neighbour - centre difference. For each width,
on 128×128 centre crops of scikit-image's textured photos and on a smooth (generated-like) image,
this prints the mean |∂(r · LBP)/∂pixel| for a random weighting r of the map, as a fraction of what
the old soft LBP, sigmoid(d / 1) on the continuous grey, gives on the same crop with the same r, and
the share of pixels whose gradient is at least a tenth of that old mean.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from skimage import data

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from util.lbp import VARIANTS, LBP, _classic_diffs, gray_continuous  # noqa: E402

PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'camera', 'gravel', 'brick')
WIDTHS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def crops(size=128):
    """name -> 1×3×size×size in [-1, 1]: centre crops of the photos, and a smooth image."""
    out = {}
    for name in PHOTOS:
        im = getattr(data, name)()
        im = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
        top, left = (im.shape[0] - size) // 2, (im.shape[1] - size) // 2
        out[name] = torch.from_numpy(np.ascontiguousarray(im[top:top + size, left:left + size])) \
            .permute(2, 0, 1)[None].float() / 127.5 - 1
    torch.manual_seed(0)
    out['smooth'] = F.interpolate(torch.rand(1, 3, 16, 16) * 2 - 1, size=(size, size), mode='bicubic').clamp(-1, 1)
    return out


def old_soft(images):
    """The first soft LBP: bit = sigmoid(neighbour - centre) on the continuous grey ('classic')."""
    diffs = _classic_diffs(gray_continuous(images))
    return sum(torch.sigmoid(d) * 2 ** p for p, d in enumerate(diffs)) / 127.5 - 1


def pixel_gradients(fn, image, weights):
    """|∂(weights · fn(image))/∂pixel|, summed over the colour channels: H×W."""
    x = image.clone().requires_grad_()
    (fn(x) * weights).sum().backward()
    return x.grad.abs().sum(1)[0]


def measure(widths, variant, images):
    """{width: {image: (mean |grad| / old mean, share of pixels >= old mean / 10)}}."""
    table = {w: {} for w in widths}
    for name, image in images.items():
        torch.manual_seed(1)
        r = torch.randn(1, 1, *image.shape[-2:])
        old = pixel_gradients(old_soft, image, r).mean()
        for w in widths:
            g = pixel_gradients(LBP(variant, w, grad_colour='luminance').differentiable, image, r)  # as old_soft
            table[w][name] = ((g.mean() / old).item(), (g >= old / 10).float().mean().item())
    return table


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--variant', default='classic', choices=VARIANTS)
    p.add_argument('--widths', default=','.join(str(w) for w in WIDTHS))
    args = p.parse_args()
    images = crops()
    table = measure([float(w) for w in args.widths.split(',')], args.variant, images)
    print("mean |gradient| as a fraction of the old soft LBP's / share of pixels with at least a tenth of "
          "the old mean")
    print(f"| width | {' | '.join(images)} |")
    print('|' + ' --- |' * (len(images) + 1))
    for w, row in table.items():
        print(f"| {w:g} | {' | '.join(f'{m:.2f} / {share:.0%}' for m, share in row.values())} |")


if __name__ == '__main__':
    main()
