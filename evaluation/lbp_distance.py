"""Pixel-aligned LBP distance: how far the synthesized image's LBP codes are from the real one's at the
same pixels. Codes are compared as numbers and at fixed positions, so this is not a texture metric
(right texture in the wrong place is punished; a texture-free rendering scores like a trained model):
evaluation/texture.py is. It is kept as a check that G_L's map follows the real image's structure.

lbp_distance: mean |LBP(synthesized) − LBP(real)| / 255 over all pixels of all images, with LBP as
util.lbp computes it for the variant the model was trained with (`--lbp_variant`);
lbp_map_distance: the same with the generator's own LBP map in place of LBP(synthesized), when
test.py wrote one. Real images of another size are compared at the synthesized size (bicubic).
"""
import numpy as np

from evaluation.metrics import Metric
from evaluation.results import same_size
from util.lbp import lbp_from_rgb8

ORDER = 5
KEYS = {'lbp_distance': Metric('LBP dist (pixel-aligned)', False, 4, 1, True),
        'lbp_map_distance': Metric("LBP dist of G_L's map (pixel-aligned)", False, 4)}
NEEDS_LABELS = False


class LBPDistance:
    def __init__(self, variant):
        self.variant = variant
        self.sums = {'lbp_distance': [0.0, 0], 'lbp_map_distance': [0.0, 0]}  # |difference| total, pixels

    def add(self, fake, real, labels=None, generated_codes=None):
        """fake, real: H×W×3 uint8 images; generated_codes: H×W codes of the generator's LBP map or None."""
        real_codes = self.codes(same_size(real, fake.shape))
        self._add('lbp_distance', self.codes(fake), real_codes)
        if generated_codes is not None:
            self._add('lbp_map_distance', generated_codes, real_codes)

    def codes(self, rgb8):
        return lbp_from_rgb8(rgb8, variant=self.variant).astype(np.int64)

    def _add(self, key, codes, real_codes):
        self.sums[key][0] += np.abs(codes - real_codes).sum()
        self.sums[key][1] += real_codes.size

    def result(self, notes=None):
        return {key: float(total) / count / 255.0 if count else None for key, (total, count) in self.sums.items()}


Accumulator = LBPDistance
