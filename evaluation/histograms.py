"""Per-class statistics that are not LBP: do the synthesized images have the real photos' colours and contrast?

The LBP texture divergence is colour-blind and nearly contrast-blind (a pattern of signs of grey-level
differences), and it is what D_L judges. These two histograms, pooled and compared exactly as the texture
divergence is (per class over the pixels whose 3×3 neighbourhood is that class, Jensen–Shannon divergence
in bits, summary weighted by real pixels), see what it cannot:
- colour_js: the joint RGB histogram, 8 levels a channel (512 bins): a grey or colour-cast rendering
  moves it, so do washed-out colours;
- gradient_js: the histogram of the Sobel gradient magnitude of the luminance (0..255 scale), in bins
  doubling in width from 1 grey level per pixel: contrast, blur, noise and flat regions move it.
"""
import numpy as np
from scipy import ndimage

from evaluation.metrics import Metric
from evaluation.renderings import LUMA
from evaluation.texture import _summary, interior

ORDER = 2
KEYS = {'colour_js': Metric('colour JS', False, 3, 1, True, 'texture'),
        'gradient_js': Metric('gradient JS', False, 3, 1, True, 'texture')}
NEEDS_LABELS = True
COLOUR_LEVELS = 8
GRADIENT_EDGES = np.concatenate([[0], 2.0 ** np.arange(0, 11)])  # 0, 1, 2, 4, ..., 1024 (Sobel's max ~1020)


def colour_bins(rgb8):
    q = rgb8.astype(np.int64) * COLOUR_LEVELS // 256
    return (q[..., 0] * COLOUR_LEVELS + q[..., 1]) * COLOUR_LEVELS + q[..., 2]


def gradient_bins(rgb8):
    grey = rgb8.astype(float) @ LUMA
    magnitude = np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1)) / 4  # Sobel's weights sum to 4
    return np.digitize(magnitude, GRADIENT_EDGES[1:-1])


STATISTICS = {'colour_js': (colour_bins, COLOUR_LEVELS ** 3), 'gradient_js': (gradient_bins, len(GRADIENT_EDGES) - 1)}


class ClassHistograms:
    """Counts per class of each statistic's bins, pooled over the images added."""

    def __init__(self):
        self.counts = {k: np.zeros((0, bins), np.int64) for k, (_, bins) in STATISTICS.items()}

    def add(self, rgb8, labels):
        mask = interior(labels)
        ids = labels[mask].astype(np.int64)
        if ids.size == 0:
            return
        for key, (bin_of, bins) in STATISTICS.items():
            counts = self.counts[key]
            if ids.max() >= len(counts):
                counts = self.counts[key] = np.pad(counts, ((0, ids.max() + 1 - len(counts)), (0, 0)))
            counts += np.bincount(ids * bins + bin_of(rgb8)[mask], minlength=counts.size).reshape(counts.shape)


class HistogramDivergence:
    """Synthesized/real pairs with their label map -> {'colour_js', 'gradient_js', 'histogram_per_class'}."""

    def __init__(self, lbp_variant=None):
        self.fake, self.real = ClassHistograms(), ClassHistograms()

    def add(self, fake, real, labels, lbp=None):
        self.fake.add(fake, labels)
        self.real.add(real, labels)

    def result(self, notes=None):
        return divergence(self.fake, self.real)


Accumulator = HistogramDivergence


def divergence(fake, real):
    out, per_class = {}, {}
    for key in STATISTICS:
        out[key], classes = _summary(fake.counts[key], real.counts[key])
        for c, v in classes.items():
            per_class.setdefault(str(c), {})[key] = v
    return {**out, 'histogram_per_class': per_class}
