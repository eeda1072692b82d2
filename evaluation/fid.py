"""FID and KID from Inception pool3 features.

FID (Heusel et al.): the Fréchet distance between Gaussians fitted to the two feature sets,
computed in float64 as pytorch-fid does. KID (Bińkowski et al.): the unbiased MMD² with the
cubic polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets; unlike FID it
has no bias from the sample size, which matters for the small test sets of the demo data.
"""
import warnings

import numpy as np
import torch
from scipy import linalg

from evaluation.metrics import Metric
from evaluation.results import batches_of_same_shape, to_tensor

ORDER = 6
# fid_seg, kid_seg: the same on the small segmenter's features (--eval_freq's, not comparable to published FIDs)
KEYS = {'fid': Metric('FID', False, 2, 1, True, 'fid'), 'kid': Metric('KID', False, 4, 1, True, 'fid'),
        'kid_std': Metric('KID sd', False, 4), 'fid_seg': Metric('FID (seg. features)', False, 2),
        'kid_seg': Metric('KID (seg. features) ×10³', False, 2, 1000)}

RESIZE = 'bilinear to 299x299'  # what FIDInceptionV3 does to every input, as pytorch-fid
# pytorch-fid's README asks for at least 2048 images (the feature dimension); FID's bias grows as the
# image count falls (Chong & Forsyth, CVPR 2020), so fewer give larger FIDs than published ones.
FEW_IMAGES = 2048


@torch.no_grad()
def activations(net, batches, device):
    """Features of every batch (N×3×H×W tensors in [-1, 1]) -> float64 array, one row per image."""
    feats = [net(batch.to(device)).double().cpu().numpy() for batch in batches]
    return np.concatenate(feats, 0) if feats else np.zeros((0, 2048))


def statistics(acts):
    """Mean and covariance (rows are samples) of a feature set."""
    return np.mean(acts, axis=0), np.cov(acts, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """||mu1 - mu2||² + Tr(S1 + S2 - 2 (S1 S2)^½), all in float64.

    With fewer samples than dimensions the covariances are singular and sqrtm can fail or return
    a large imaginary part; then, as pytorch-fid does, eps is added to both diagonals and the root
    is taken again. What imaginary part is left is numerical noise and is dropped.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # A singular product is expected with few samples; the checks below deal with it.
        warnings.simplefilter('ignore', linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not _usable_root(covmean):
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FID: matrix square root has an imaginary part of "
                             f"{np.max(np.abs(covmean.imag)):.3g}; the feature sets are degenerate")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def _usable_root(covmean):
    if not np.isfinite(covmean).all():
        return False
    return not np.iscomplexobj(covmean) or np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3)


def fid_from_activations(acts1, acts2):
    """FID of two feature sets; needs at least two samples in each for a covariance.

    With fewer samples than feature dimensions (e.g. Cityscapes' 500 validation images against
    2048 features) both covariances live in the span of the centred samples. The trace of
    (S1 S2)^½ does not change under a rotation into that span, and the mean difference is split
    into its part inside and outside it, so the result is the same number while sqrtm works on
    an m×m instead of a 2048×2048 matrix (tens of seconds less on a CPU).
    """
    mu1, mu2 = acts1.mean(0), acts2.mean(0)
    if len(acts1) + len(acts2) >= acts1.shape[1]:
        return frechet_distance(*statistics(acts1), *statistics(acts2))
    basis = np.linalg.svd(np.concatenate([acts1 - mu1, acts2 - mu2]), full_matrices=False)[2].T
    diff = mu1 - mu2
    outside = diff - basis @ (basis.T @ diff)
    return frechet_distance(*statistics(acts1 @ basis), *statistics(acts2 @ basis)) + float(outside.dot(outside))


def _polynomial_mmd2(x, y):
    """Unbiased MMD² with k(a, b) = (a·b / d + 1)³: the diagonals of K_xx and K_yy are left out."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean())


def kernel_inception_distance(acts1, acts2, num_subsets=100, subset_size=1000, seed=0):
    """KID mean and standard deviation over random subsets (subset size capped by the smaller set)."""
    size = min(len(acts1), len(acts2), subset_size)
    if size < 2:
        raise ValueError("KID needs at least two images in each set")
    rng = np.random.default_rng(seed)  # fixed, so the same folders always give the same number
    values = [_polynomial_mmd2(acts1[rng.choice(len(acts1), size, replace=False)],
                               acts2[rng.choice(len(acts2), size, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))


class FIDFeatures:
    """Inception pool3 features of the synthesized and the real images, gathered batch by batch."""

    def __init__(self, net, device):
        self.net, self.device = net, device
        self.fake, self.real = [], []

    def add(self, synth, real):
        """synth, real: lists of H×W×3 uint8 images (8-bit -> [-1, 1] as the network expects)."""
        for images, out in ((synth, self.fake), (real, self.real)):
            for group in batches_of_same_shape([im.shape for im in images]):
                batch = to_tensor([images[i] for i in group]).float() / 127.5 - 1
                out.append(activations(self.net, [batch], self.device))

    def result(self, notes):
        fake, real = np.concatenate(self.fake), np.concatenate(self.real)
        if min(len(fake), len(real)) < 2:
            notes['fid'] = notes['kid'] = 'n/a: FID and KID need at least 2 images'
            return {'fid': None, 'kid': None, 'kid_std': None}
        kid, kid_std = kernel_inception_distance(fake, real)
        return {'fid': fid_from_activations(fake, real), 'kid': kid, 'kid_std': kid_std}
