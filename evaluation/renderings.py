"""Renderings of real photos that a realism measure must tell from the photos themselves (its references).

texture_free: each 4-connected segment of one class filled with its mean colour (no texture at all);
blurred: Gaussian σ 1.5 (the real texture, weakened); noisy: texture_free plus grey noise σ 8 (texture that is
not the real one); grey: the luminance on all three channels (no colour); washed_out: the segment mean plus a
quarter of the real deviation from it (25 % contrast). The last two are what the LBP texture divergence cannot
see: LBP compares grey levels by sign only.
"""
import numpy as np
from scipy import ndimage

LUMA = np.array([0.2125, 0.7154, 0.0721])  # rgb2gray's weights, as the LBP operator's grey


def texture_free(rgb8, labels):
    """Each 4-connected segment of one class filled with its mean colour."""
    segments = np.zeros(labels.shape, np.int64)
    count = 0
    for c in np.unique(labels):
        comp, n = ndimage.label(labels == c)
        segments[comp > 0] = comp[comp > 0] + count
        count += n
    flat = segments.ravel()
    sizes = np.bincount(flat, minlength=count + 1)
    means = np.stack([np.bincount(flat, rgb8[..., i].ravel().astype(float), count + 1) for i in range(3)], 1)
    means /= np.maximum(sizes, 1)[:, None]
    return np.rint(means[segments]).astype(np.uint8)


def blurred(rgb8, sigma=1.5):
    return np.rint(ndimage.gaussian_filter(rgb8.astype(float), (sigma, sigma, 0))).clip(0, 255).astype(np.uint8)


def noisy(rgb8, labels, rng, sigma=8.0):
    """texture_free plus Gaussian grey noise (the same value on the three channels)."""
    noise = rng.normal(0, sigma, labels.shape)[..., None]
    return np.rint(texture_free(rgb8, labels) + noise).clip(0, 255).astype(np.uint8)


def grey(rgb8):
    g = np.rint(rgb8.astype(float) @ LUMA).clip(0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, -1)


def washed_out(rgb8, labels, contrast=0.25):
    free = texture_free(rgb8, labels).astype(float)
    return np.rint(free + contrast * (rgb8.astype(float) - free)).clip(0, 255).astype(np.uint8)


RENDERINGS = {'texture_free': texture_free, 'blurred': lambda im, lb: blurred(im), 'grey': lambda im, lb: grey(im),
              'washed_out': washed_out}  # (noisy needs a random generator: noisy(im, lb, rng))
