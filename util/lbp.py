"""Local binary patterns (P=8, R=1) as batched torch ops, hard and differentiable ("soft").

The reference is scikit-image:
    local_binary_pattern(img_as_ubyte(rgb2gray(rgb)), P=8, R=1, method='default')
Neighbour p sits at (row, col) offset (-sin(2πp/8), cos(2πp/8)) rounded to 5 decimals, so the
four diagonal neighbours are bilinear interpolations with weights 0.70711 / 0.29289; pixels
outside the image count as 0; bit p is set when neighbour >= centre and weighs 2**p.

Every "neighbour - centre" difference is linear in the gray image, so all eight come out of
one 3×3 convolution with fixed weights. That is the whole operator: no loop over pixels.
"""
import math

import torch
import torch.nn.functional as F

# rgb2gray's luminance weights; multiplied by 10**4 they are integers, which makes the
# 8-bit gray of an 8-bit image exact: round(N / 10**4) with N = 2125 R + 7154 G + 721 B.
_GRAY = (0.2125, 0.7154, 0.0721)
_GRAY_INT = (2125, 7154, 721)

# With 8-bit inputs a diagonal difference is either exactly 0 or at least 5.0e-4 in size
# (the smallest |2071054479·x + 5000045521·y| / 10**10 over the integer range), while the
# float32 convolution errs by < 1.5e-4, so anything inside ±_TIE is an exact tie. A tie
# counts as ">=" (flat regions give 255), except on sloped ties (corner == centre, the two
# side neighbours at centre ± k, k != 0), where scikit-image's answer is float64 rounding
# noise of its position-dependent bilinear weights; those few pixels are recomputed its way.
_TIE = 2.5e-4
_OFFSETS = [(round(-math.sin(2 * math.pi * p / 8), 5), round(math.cos(2 * math.pi * p / 8), 5))
            for p in range(8)]


def _kernels():
    """8×1×3×3 weights: conv(gray)[p] = neighbour_p - centre, with skimage's bilinear rule."""
    k = torch.zeros(8, 1, 3, 3, dtype=torch.float64)
    for p, (dr, dc) in enumerate(_OFFSETS):
        r0, c0 = math.floor(dr), math.floor(dc)
        fr, fc = dr - r0, dc - c0
        for r, wr in ((r0, 1 - fr), (r0 + 1, fr)):
            for c, wc in ((c0, 1 - fc), (c0 + 1, fc)):
                if wr * wc and -1 <= r <= 1 and -1 <= c <= 1:
                    k[p, 0, r + 1, c + 1] += wr * wc
        k[p, 0, 1, 1] -= 1.0
    return k


_KERNELS = _kernels()
_BIT_WEIGHTS = 2.0 ** torch.arange(8, dtype=torch.float64)


def _consts(ref):
    return (_KERNELS.to(device=ref.device, dtype=ref.dtype),
            _BIT_WEIGHTS.to(device=ref.device, dtype=ref.dtype).view(1, 8, 1, 1))


def gray8(images):
    """N×3×H×W images in [-1, 1] -> N×1×H×W float tensor of 8-bit gray levels (0..255, integral)."""
    rgb8 = torch.round((images.detach().float().clamp(-1, 1) + 1) * 127.5)
    w = torch.tensor(_GRAY_INT, dtype=torch.float32, device=images.device).view(1, 3, 1, 1)
    n = (rgb8 * w).sum(1, keepdim=True)  # exact: integers below 2**24
    return torch.round(n / 10000)  # round half to even, as img_as_ubyte's rint


def gray_continuous(images):
    """N×3×H×W in [-1, 1] -> N×1×H×W luminance on the 0..255 scale, differentiable."""
    w = torch.tensor(_GRAY, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return ((images + 1) * 127.5 * w).sum(1, keepdim=True)


def lbp_codes(gray):
    """N×1×H×W 8-bit gray levels (as float) -> N×1×H×W hard LBP codes 0..255 (float)."""
    kernels, bits = _consts(gray)
    diff = F.conv2d(gray, kernels, padding=1)
    ge = diff > -_TIE
    sloped = (diff[:, 1::2].abs() < _TIE) & (diff[:, 0::2] != 0)
    if sloped.any():
        ge[:, 1::2][sloped] = _skimage_ties(gray, sloped)
    return (ge.to(gray.dtype) * bits).sum(1, keepdim=True)


def _skimage_ties(gray, sloped):
    """scikit-image's float64 bilinear comparison, for the diagonal ties marked in sloped."""
    n, j, r, c = sloped.nonzero(as_tuple=True)
    g = F.pad(gray.double(), (1, 1, 1, 1))[:, 0]  # zero outside, as skimage's mode 'C'
    offsets = torch.tensor(_OFFSETS, dtype=torch.float64, device=gray.device)[1::2][j]
    rr, cc = r.double() + offsets[:, 0], c.double() + offsets[:, 1]
    r0, c0 = rr.floor(), cc.floor()
    dr, dc = rr - r0, cc - c0
    r0, c0 = r0.long() + 1, c0.long() + 1
    top = (1 - dc) * g[n, r0, c0] + dc * g[n, r0, c0 + 1]
    bottom = (1 - dc) * g[n, r0 + 1, c0] + dc * g[n, r0 + 1, c0 + 1]
    return (1 - dr) * top + dr * bottom - g[n, r + 1, c + 1] >= 0


def lbp_hard(images):
    """N×3×H×W images in [-1, 1] -> N×1×H×W LBP map in [-1, 1] (code / 127.5 - 1). No gradient."""
    with torch.no_grad():
        return lbp_codes(gray8(images)) / 127.5 - 1


def lbp_soft(images, temperature=1.0):
    """Differentiable LBP map in [-1, 1]: bit p = sigmoid((neighbour_p - centre) / t).

    t is in gray levels (0..255 scale); as t -> 0 this tends to the hard code of the same
    (unquantised) gray image.
    """
    kernels, bits = _consts(images)
    diff = F.conv2d(gray_continuous(images), kernels, padding=1)
    return (torch.sigmoid(diff / temperature) * bits).sum(1, keepdim=True) / 127.5 - 1


def lbp_from_rgb8(rgb8):
    """H×W×3 uint8 numpy array -> H×W uint8 LBP codes (for evaluation scripts)."""
    x = torch.from_numpy(rgb8).permute(2, 0, 1)[None].float() / 127.5 - 1
    return lbp_codes(gray8(x))[0, 0].to(torch.uint8).numpy()
