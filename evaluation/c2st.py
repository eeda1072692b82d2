"""Classifier two-sample test (C2ST; Lopez-Paz & Oquab, ICLR 2017): can a small CNN tell patches of the
real photos from patches of the synthesized images of the same label maps?

Its held-out accuracy is the score: 0.5 when the two sets cannot be told apart, 1 when every patch is told
apart. It shares nothing with D_L (no LBP, no grey-level comparison) and sees colour, contrast, blur, noise
and artefacts such as colour fringes; the 'grey' variant sees only luminance (texture and contrast).

Protocol (fixed; protocol() is stored in metrics.json's protocol beside every score):
- scenes (label maps, in name order: a video's frames stay in order) are cut into blocks of BLOCK
  consecutive ones, alternately in fold 0 and fold 1; a classifier trains on one fold and is scored on the
  other, then the other way round, so every scene is held out once and neighbouring video frames, near
  duplicates, never straddle training and scoring;
- training: STEPS[-1] Adam steps on batches of BATCH patches of PATCH×PATCH pixels, half real, half
  synthesized, cut at the same random places of randomly drawn training scenes and flipped at random;
- scoring: the PATCH×PATCH tiles of each held-out scene (no overlap), real and synthesized;
- the accuracy after each of STEPS (the curve) for SEEDS classifier seeds; the score is the mean over seeds
  at the last step, with the seeds' standard deviation beside it;
- the torch thread count: a seed gives the same score again with the same count, but another count sums in
  another order and the 400 steps carry that on (CamVid val, one run's 5 evaluations: up to 0.021 apart with
  1 and 2 threads, inside the classifier seeds' spread), so it is stored with the rest.
A C2ST saturates when trained long enough (any difference becomes visible), so the steps and the
classifier's size were chosen so that the references of the real photos spread out (docs/METHOD.md).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from evaluation.metrics import Metric
from evaluation.renderings import LUMA

PATCH, BATCH, BLOCK, SEEDS = 16, 64, 8, 5
STEPS = (50, 100, 200, 400)
WIDTH = 16
ORDER = 1
KEYS = {'c2st': Metric('C2ST acc', False, 3, 1, True), 'c2st_grey': Metric('C2ST grey acc', False, 3, 1, True, 'c2st'),
        'c2st_std': Metric('C2ST sd (classifier seeds)', False), 'c2st_grey_std': Metric('C2ST grey sd', False)}
NEEDS_LABELS = False


def protocol():
    """The constants behind a score, read when it is made (tests shorten them)."""
    return {'patch': PATCH, 'batch': BATCH, 'block': BLOCK, 'seeds': SEEDS, 'steps': list(STEPS), 'width': WIDTH,
            'threads': torch.get_num_threads()}


def classifier(channels, width=WIDTH):
    """A small patch CNN: a full-resolution layer (fringes and noise are one or two pixels wide), three
    stride-2 layers, global average pooling (the place of a patch does not matter), one logit."""
    act = nn.LeakyReLU(0.2)
    return nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), act,
                         nn.Conv2d(width, 2 * width, 3, 2, 1), act,
                         nn.Conv2d(2 * width, 2 * width, 3, 2, 1), act,
                         nn.Conv2d(2 * width, 2 * width, 3, 2, 1), act,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, 1))


def to_input(images, grey):
    """N×H×W×3 uint8 -> N×C×H×W float in [-1, 1] (C = 1 for grey: the luminance)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1
    if grey:
        x = (x * torch.tensor(LUMA, dtype=x.dtype).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return x.contiguous(memory_format=torch.channels_last)  # oneDNN's fast layout: 1.5x on a CPU


def folds(count, block=BLOCK):
    """Fold (0 or 1) of each of `count` scenes in order: alternate blocks of `block` consecutive scenes."""
    return (np.arange(count) // block) % 2


def grid(height, width, patch=PATCH):
    return [(r, c) for r in range(0, height - patch + 1, patch) for c in range(0, width - patch + 1, patch)]


def cut(x, places, patch=PATCH):
    """Patches of x (N×C×H×W) at places [(n, r, c)] -> len(places)×C×patch×patch."""
    return torch.stack([x[n, :, r:r + patch, c:c + patch] for n, r, c in places]).contiguous(
        memory_format=torch.channels_last)


def train_and_score(real, fake, train, test, seed, steps):
    """Accuracy on the `test` scenes after each of `steps`, for a classifier trained on the `train` scenes."""
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = classifier(real.shape[1]).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    h, w = real.shape[-2:]
    places = [(n, r, c) for n in test for r, c in grid(h, w)]
    held = torch.cat([cut(real, places), cut(fake, places)])
    truth = torch.cat([torch.ones(len(places)), torch.zeros(len(places))])
    curve, half = [], BATCH // 2
    for step in range(1, steps[-1] + 1):
        n = rng.choice(train, half)
        rows, cols = rng.integers(0, h - PATCH + 1, half), rng.integers(0, w - PATCH + 1, half)
        batch_places = list(zip(n, rows, cols))
        x = torch.cat([cut(real, batch_places), cut(fake, batch_places)])
        flip = torch.rand(len(x), generator=gen) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
        y = torch.cat([torch.ones(half), torch.zeros(half)])
        loss = F.binary_cross_entropy_with_logits(net(x).squeeze(1), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step in steps:
            with torch.no_grad():
                curve.append(((net(held).squeeze(1) > 0).float() == truth).float().mean().item())
    return curve


def c2st(real, fake, grey=False, seeds=None, steps=None):
    """real, fake: N×H×W×3 uint8 arrays, scene i of both drawn from the same label map, in scene order.
    -> {'accuracy': mean over seeds at the last step, 'std': over seeds, 'curve': {step: mean accuracy},
    'per_seed': [accuracy at the last step]}."""
    seeds, steps = SEEDS if seeds is None else seeds, STEPS if steps is None else steps  # (read now: tests set them)
    if len(real) != len(fake) or len(real) < 2 * BLOCK:
        raise ValueError(f"C2ST needs as many synthesized as real images and at least {2 * BLOCK} scenes, "
                         f"got {len(real)} real and {len(fake)} synthesized")
    real, fake = to_input(real, grey), to_input(fake, grey)
    fold = folds(len(real))
    correct = np.zeros((seeds, len(steps)))
    for seed in range(seeds):
        for held_out in (0, 1):
            test, train = np.flatnonzero(fold == held_out), np.flatnonzero(fold != held_out)
            correct[seed] += np.array(train_and_score(real, fake, train, test, seed, steps)) * len(test)
    acc = correct / len(real)  # every scene held out once, each with the same number of patches
    return {'accuracy': float(acc[:, -1].mean()), 'std': float(acc[:, -1].std(ddof=1)) if seeds > 1 else 0.0,
            'curve': {str(s): float(a) for s, a in zip(steps, acc.mean(0))}, 'per_seed': acc[:, -1].tolist()}


def scores(real, fake, seeds=None, steps=None):
    """metrics.json's C2ST keys for lists of same-sized real and synthesized H×W×3 uint8 images in scene order:
    colour ('c2st') and luminance only ('c2st_grey'), each with its seeds' standard deviation and curve."""
    real, fake = np.stack(real), np.stack(fake)
    out = {}
    for key, grey in (('c2st', False), ('c2st_grey', True)):
        r = c2st(real, fake, grey, seeds, steps)
        out.update({key: r['accuracy'], f'{key}_std': r['std'], f'{key}_curve': r['curve']})
    return out


class Accumulator:
    """The image pairs, kept: the classifiers train on all of them at the end."""

    def __init__(self, lbp_variant=None):
        self.pairs = []

    def add(self, fake, real, labels=None, lbp=None):
        self.pairs.append((real, fake))

    def result(self, notes):
        if len(self.pairs) < 2 * BLOCK:
            notes['c2st'] = f'n/a: fewer than {2 * BLOCK} images'
            return {}
        return scores(*zip(*self.pairs))
