"""Where ULBPGAN's green and magenta fringes come from: two measurements.

    python scripts/colour_fringes.py gradients --name RUN [--checkpoints_dir DIR] [--batches 8]
    python scripts/colour_fringes.py images FOLDER [FOLDER ...]

gradients: G's loss terms of a trained run (its latest.pth, D_I and D_L included) on CamVid-style val
batches; for each term, how its gradient with respect to the synthesized image splits between the grey
axis (R, G, B alike: lighter or darker, no colour), the green-magenta axis (G against R and B) and the
red-blue axis. A term that pushes colour along green-magenta where no other term does is a fringe maker.

images: in the images/ folders test.py wrote, the colour at edges: at the pixels whose luminance gradient
is in the top tenth of their image, the mean |high-pass| (the value minus its Gaussian σ 1 blur) of the
green-magenta and red-blue components, for the synthesized and the real images, and their ratio.
A fringe is colour that changes across an edge more than the real photos' colours do.
"""
import argparse
import os
import sys

import numpy as np
import torch
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from evaluation import results  # noqa: E402
from util.errors import UserError, exit_on_user_error  # noqa: E402

AXES = {'grey': (1, 1, 1), 'green-magenta': (-1, 2, -1), 'red-blue': (1, 0, -1)}  # orthogonal
UNIT = {k: np.array(v, float) / np.linalg.norm(v) for k, v in AXES.items()}
LUMA = np.array([0.2125, 0.7154, 0.0721])


def axis_energy(grad):
    """N×3×H×W gradient -> {axis: its squared norm along that colour axis}."""
    g = grad.detach().double().permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    return {k: float(((g @ u) ** 2).sum()) for k, u in UNIT.items()}


def gradients(args):
    from data import create_dataloader
    from models.checkpoint import load_state, TrainedRun
    from models.pix2pix_model import Pix2PixModel
    from options.train_options import TrainOptions
    options = TrainOptions()
    opt = options.resolve(options.parse(['--name', args.name, '--checkpoints_dir', args.checkpoints_dir, '--gpu_ids', '-1',
                                '--continue_train', '--load_from_opt_file', '--phase', 'val', '--amp', 'none', '--batchSize', '4',
                                '--no_flip', '--serial_batches', '--no_vgg_loss']))  # (as the CPU runs train)
    model = Pix2PixModel.from_options(opt)
    run = TrainedRun(os.path.join(opt.checkpoints_dir, opt.name), 'latest')
    load_state(model, run.require_state(), run.path)
    captured = {}
    g_forward = model.nets['G'].forward

    def keep_image(*a, **k):  # the synthesized image, kept so each loss term's gradient can be taken
        captured['image'] = out = g_forward(*a, **k)
        return out
    model.nets['G'].forward = keep_image
    totals = {}
    for i, batch in enumerate(create_dataloader(opt)):
        if i == args.batches:
            break
        losses, _ = model.generator_losses(batch)
        image = captured['image']
        for name, loss in losses.items():
            if loss.requires_grad:
                (grad,) = torch.autograd.grad(loss, image, retain_graph=True, allow_unused=True)
                if grad is not None:
                    for axis, energy in axis_energy(grad).items():
                        totals.setdefault(name, {}).setdefault(axis, []).append(energy)
    energy = {name: {a: sum(v) for a, v in axes.items()} for name, axes in totals.items()}
    gm_all = sum(e['green-magenta'] for e in energy.values())
    all_terms = sum(sum(e.values()) for e in energy.values())
    print(f"{args.name}, {args.batches} val batches of 4: the share of each G loss term's squared gradient on the "
          f"synthesized image along each colour axis, and its part of all terms' gradient and of their green-magenta part")
    print('| term | ' + ' | '.join(AXES) + ' | of all | of all green-magenta |\n| --- |' + ' --- |' * (len(AXES) + 2))
    for name, e in energy.items():
        total = sum(e.values()) or 1.0
        print(f"| {name} | " + ' | '.join(f"{e[a] / total:.3f}" for a in AXES) +
              f" | {total / all_terms:.3f} | {e['green-magenta'] / gm_all:.3f} |")


def edge_chroma(rgb8):
    """(mean |high-pass green-magenta|, mean |high-pass red-blue|) at the image's strongest-gradient tenth."""
    x = rgb8.astype(float)
    grey = x @ LUMA
    magnitude = np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))
    edges = magnitude >= np.quantile(magnitude, 0.9)
    out = []
    for axis in ('green-magenta', 'red-blue'):
        c = x @ UNIT[axis]
        out.append(float(np.abs(c - ndimage.gaussian_filter(c, 1.0))[edges].mean()))
    return out


def images(args):
    print('| folder | green-magenta synth / real | ratio | red-blue synth / real | ratio |\n| --- | --- | --- | --- | --- |')
    for folder in args.folders:
        stems = results.list_stems(folder)
        synth = np.mean([edge_chroma(results.read_rgb(folder, 'synthesized_image', s)) for s in stems], 0)
        real = np.mean([edge_chroma(results.read_rgb(folder, 'real_image', s)) for s in stems], 0)
        print(f"| {folder} | {synth[0]:.2f} / {real[0]:.2f} | {synth[0] / real[0]:.2f} | "
              f"{synth[1]:.2f} / {real[1]:.2f} | {synth[1] / real[1]:.2f} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='command', required=True)
    g = sub.add_parser('gradients')
    g.add_argument('--name', required=True)
    g.add_argument('--checkpoints_dir', default='./checkpoints')
    g.add_argument('--batches', type=int, default=8)
    i = sub.add_parser('images')
    i.add_argument('folders', nargs='+', help='results/<name>/<phase>_<epoch>/images folders')
    args = p.parse_args(argv)
    if args.command == 'images':
        missing = [f for f in args.folders if not os.path.isdir(f)]
        if missing:
            raise UserError(f"{missing[0]}: no such folder; run test.py first")
    (gradients if args.command == 'gradients' else images)(args)


if __name__ == '__main__':
    exit_on_user_error(main)
