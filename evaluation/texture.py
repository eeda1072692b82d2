"""Texture divergence: are the synthesized images' local textures those of the real images, class by class?

LBP codes are categories and texture is stochastic, so the metric compares distributions, not pixels.
For each class c: the histogram of LBP codes (util.lbp, the model's --lbp_variant) over the pixels of c
whose 3×3 neighbourhood is all c and inside the image (a code never straddles two classes or the
border), pooled over all scored images; once for the synthesized images, once for the real images of
the same label maps. Per class, the Jensen–Shannon divergence of the two histograms in bits (0: the
same texture statistics, 1: disjoint). Two code sets:
- texture_js: the 256 codes of the operator;
- texture_js_riu2: rotation-invariant uniform codes (10 bins: the number of ones of a code with at
  most two 0/1 transitions around the circle, and one bin for every other code). Sensor noise
  spreads real photos over the 256 codes; riu2 keeps structure (edges, flats, spots) apart from it.
The summary of each is pixel-weighted: the classes present in both sets, weighted by their real
pixel count (a class of a few pixels has a noisy histogram and weighs little); per_class keeps each.

References, from the data alone (`references`), scored the same way against the same real images:
texture_free (each connected segment of the real image filled with its mean colour), blurred (the
real image, Gaussian σ 1.5), noise (texture_free plus Gaussian grey noise, σ 8 levels) and
real_vs_real (the even-numbered real images against the odd-numbered ones: each half has half the
pixels, so this floor is a little above the sampling noise of a full set). A model lies between
texture_free and real_vs_real; `position` says where (0 = texture-free, 1 = real).
docs/METHOD.md ("Measuring texture") has the measured values and why pixel-aligned LBP distances cannot do this.
"""
import numpy as np

from evaluation.metrics import Metric
from evaluation.renderings import blurred, noisy, texture_free
from util.lbp import lbp_from_rgb8

ORDER = 3
KEYS = {'texture_js': Metric('texture JS (bits)', False, 3, 1, True, 'texture'),
        'texture_sqrt_js': Metric('texture √JS', False, 3, 1, False, 'texture'),  # the Jensen–Shannon distance
        'texture_js_riu2': Metric('texture JS riu2', False, 3, 1, True, 'texture'),
        'texture_position': Metric('texture: texture-free 0 % → real 100 %', True, 0, 100, True, 'texture', ' %')}
NEEDS_LABELS = True
CODES = 256


def _riu2_bins():
    """Classic code -> riu2 bin. Both operators number their bits around the circle, so a
    transition is a change between circularly adjacent bits."""
    codes = np.arange(CODES)
    bits = (codes[:, None] >> np.arange(8)) & 1
    transitions = (bits != np.roll(bits, 1, axis=1)).sum(1)
    return np.where(transitions <= 2, bits.sum(1), 9)


RIU2 = _riu2_bins()


def interior(labels):
    """H×W ids -> bool mask of the pixels whose 3×3 neighbourhood is inside the image and of one class."""
    h, w = labels.shape
    mask = np.zeros((h, w), bool)
    centre = labels[1:-1, 1:-1]
    same = np.ones_like(centre, bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            same &= labels[1 + dr:h - 1 + dr, 1 + dc:w - 1 + dc] == centre
    mask[1:-1, 1:-1] = same
    return mask


class TextureHistograms:
    """LBP code counts per class, pooled over the images added: counts[c] is class c's histogram."""

    def __init__(self, variant):
        self.variant = variant
        self.counts = np.zeros((0, CODES), np.int64)

    def add(self, rgb8, labels):
        """rgb8: H×W×3 uint8 image; labels: H×W class ids of the same size."""
        if labels.shape != rgb8.shape[:2]:
            raise ValueError(f"label map {labels.shape} and image {rgb8.shape[:2]} differ in size")
        codes = lbp_from_rgb8(rgb8, self.variant).astype(np.int64)
        mask = interior(labels)
        ids = labels[mask].astype(np.int64)
        if ids.size == 0:
            return
        if ids.max() >= len(self.counts):
            self.counts = np.pad(self.counts, ((0, ids.max() + 1 - len(self.counts)), (0, 0)))
        self.counts += np.bincount(ids * CODES + codes[mask], minlength=len(self.counts) * CODES).reshape(-1, CODES)

    def riu2(self):
        out = np.zeros((len(self.counts), RIU2.max() + 1), np.int64)
        np.add.at(out.T, RIU2, self.counts.T)
        return out


def js_bits(p, q):
    """Jensen–Shannon divergence (base 2) of two count vectors."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):
        nz = a > 0
        return float((a[nz] * np.log2(a[nz] / m[nz])).sum())
    return max(0.0, (kl(p) + kl(q)) / 2)


def _summary(fake, real):
    """(pixel-weighted JS, {class: JS}) over the classes with pixels in both count tables."""
    n = min(len(fake), len(real))
    classes = [c for c in range(n) if fake[c].sum() and real[c].sum()]
    if not classes:
        return None, {}
    per_class = {c: js_bits(fake[c], real[c]) for c in classes}
    weights = np.array([real[c].sum() for c in classes], float)
    return float(np.dot(weights, [per_class[c] for c in classes]) / weights.sum()), per_class


def divergence(fake, real):
    """TextureHistograms of synthesized and real images -> {'texture_js', 'texture_js_riu2', 'texture_per_class'}."""
    js, per_class = _summary(fake.counts, real.counts)
    js_riu2, per_class_riu2 = _summary(fake.riu2(), real.riu2())
    pixels = real.counts.sum(1)
    return {'texture_js': js, 'texture_sqrt_js': None if js is None else js ** 0.5, 'texture_js_riu2': js_riu2,
            'texture_per_class': {str(c): {'js': v, 'js_riu2': per_class_riu2[c], 'real_pixels': int(pixels[c])}
                                  for c, v in per_class.items()}}


class TextureDivergence:
    """Accumulates synthesized/real pairs with their label map; `result()` is `divergence` of the two."""

    def __init__(self, variant):
        self.fake, self.real = TextureHistograms(variant), TextureHistograms(variant)

    def add(self, fake, real, labels, lbp=None):
        self.fake.add(fake, labels)
        self.real.add(real, labels)

    def result(self, notes=None):
        found = divergence(self.fake, self.real)
        if found['texture_js'] is None and notes is not None:
            notes['texture'] = 'n/a: no pixel away from a class boundary'
        return found


Accumulator = TextureDivergence


# ---- references from the data alone (the renderings: evaluation/renderings.py) ----
REFERENCES = ('texture_free', 'noise', 'blurred', 'real_vs_real')  # a sound metric ranks the last two nearest


class References:
    """The references of the real images added one by one (module docstring); `result()` -> {reference:
    {'texture_js', 'texture_js_riu2'}}. Image by image, so a large split is never held in memory."""

    def __init__(self, variant, seed=0):
        self.rng = np.random.default_rng(seed)
        self.renders = {'texture_free': texture_free, 'noise': lambda im, lb: noisy(im, lb, self.rng),
                        'blurred': lambda im, lb: blurred(im)}
        self.rendered = {name: TextureDivergence(variant) for name in self.renders}
        self.halves = (TextureHistograms(variant), TextureHistograms(variant))  # even, odd images
        self.count = 0

    def add(self, real, labels):
        for name, render in self.renders.items():
            self.rendered[name].add(render(real, labels), real, labels)
        self.halves[self.count % 2].add(real, labels)
        self.count += 1

    def result(self):
        out = {name: acc.result() for name, acc in self.rendered.items()}
        out['real_vs_real'] = divergence(*self.halves)
        return {name: {k: v[k] for k in ('texture_js', 'texture_js_riu2')} for name, v in out.items()}


def references(reals, labels, variant, seed=0):
    """References.result() of lists of real images and their label maps."""
    refs = References(variant, seed)
    for im, lb in zip(reals, labels):
        refs.add(im, lb)
    return refs.result()


def position(value, refs, key='texture_js'):
    """Where a divergence lies between texture-free (0) and real against real (1), or None (refs: `result()`)."""
    lo, hi = refs['texture_free'][key], refs['real_vs_real'][key]
    if value is None or lo is None or hi is None or lo == hi:
        return None
    return (lo - value) / (lo - hi)
