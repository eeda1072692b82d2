"""Local binary patterns (P=8, R=1) as batched torch ops, hard and differentiable ("soft").

The reference is scikit-image:
    local_binary_pattern(img_as_ubyte(rgb2gray(rgb)), P=8, R=1, method='default')
Neighbour p sits at (row, col) offset (-sin(2πp/8), cos(2πp/8)) rounded to 5 decimals, so the
four diagonal neighbours are bilinear interpolations with weights 0.70711 / 0.29289; pixels
outside the image count as 0; bit p is set when neighbour >= centre and weighs 2**p.

Every "neighbour - centre" difference is a weighted sum of shifted views of the gray image,
so the operator is a handful of whole-tensor ops (no loop over pixels); compile_lbp() fuses
them into one pass over memory with torch.compile.
"""
import math

import torch
import torch.nn.functional as F

# rgb2gray's luminance weights; multiplied by 10**4 they are integers, which makes the
# 8-bit gray of an 8-bit image exact: round(N / 10**4) with N = 2125 R + 7154 G + 721 B.
_GRAY = (0.2125, 0.7154, 0.0721)
_GRAY_INT = (2125, 7154, 721)

_OFFSETS = [(round(-math.sin(2 * math.pi * p / 8), 5), round(math.cos(2 * math.pi * p / 8), 5))
            for p in range(8)]
# Bilinear weights of a diagonal neighbour (|offset| = 0.70711 on both axes): the far corner,
# and each of the two axis neighbours beside it; the centre takes the rest.
_W_CORNER = 0.70711 * 0.70711
_W_SIDE = 0.70711 * (1 - 0.70711)
_DIAG_SIDES = ((2, 0), (2, 4), (6, 4), (6, 0))  # the axis neighbours beside diagonals 1, 3, 5, 7


def gray8(images):
    """N×3×H×W images in [-1, 1] -> N×1×H×W float tensor of 8-bit gray levels (0..255, integral)."""
    rgb8 = torch.round((images.detach().float().clamp(-1, 1) + 1) * 127.5)
    n = sum(rgb8[:, i:i + 1] * w for i, w in enumerate(_GRAY_INT))  # exact: integers below 2**24
    return torch.round(n / 10000)  # round half to even, as img_as_ubyte's rint


def gray_continuous(images):
    """N×3×H×W in [-1, 1] -> N×1×H×W luminance on the 0..255 scale, differentiable."""
    w = torch.tensor(_GRAY, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return ((images + 1) * 127.5 * w).sum(1, keepdim=True)


def _neighbour_diffs(gray):
    """The eight neighbour_p - centre maps of gray (N×1×H×W), from shifted views: no conv.

    A diagonal neighbour is skimage's bilinear mix w_c·corner + w_s·(side_a + side_b) + (rest)·centre
    with weights summing to 1, so its difference is w_c·Δcorner + w_s·(Δside_a + Δside_b).
    Returns (axis diffs {p: Δ}, {p: (Δcorner, Δside_a + Δside_b)} for the diagonals).
    """
    h, w = gray.shape[-2:]
    padded = F.pad(gray, (1, 1, 1, 1))  # zero outside the image, as skimage
    shift = lambda dr, dc: padded[..., 1 + dr:1 + dr + h, 1 + dc:1 + dc + w] - gray
    axis = {p: shift(int(dr), int(dc)) for p, (dr, dc) in enumerate(_OFFSETS) if p % 2 == 0}
    diag = {p: (shift(int(math.copysign(1, dr)), int(math.copysign(1, dc))), axis[a] + axis[b])
            for p, (dr, dc), (a, b) in zip((1, 3, 5, 7), _OFFSETS[1::2], _DIAG_SIDES)}
    return axis, diag


def _hard_bits(gray):
    """-> (codes with every diagonal tie counted as set, bitmask of the sloped ties).

    Gray levels are integers, so a diagonal difference is a tie exactly when Δcorner and
    Δside_a + Δside_b are both 0 (no float threshold needed). A flat tie counts as '>='; a
    sloped one (Δside_a = -Δside_b != 0) is float64 noise in skimage, redone by _skimage_ties.
    """
    axis, diag = _neighbour_diffs(gray)
    codes = sum((d >= 0).to(gray.dtype) * 2 ** p for p, d in axis.items())
    ties = torch.zeros_like(gray)  # summed in float: fused kernels vectorise it, uint8 bit ops not
    for p, (corner, sides) in diag.items():
        tie = (corner == 0) & (sides == 0)
        codes = codes + ((_W_CORNER * corner + _W_SIDE * sides > 0) | tie).to(gray.dtype) * 2 ** p
        ties = ties + (tie & (axis[_DIAG_SIDES[p // 2][0]] != 0)).to(gray.dtype) * 2 ** p
    ties = ties.to(torch.uint8)
    return codes, ties


def lbp_codes(gray):
    """N×1×H×W 8-bit gray levels (as float) -> N×1×H×W hard LBP codes 0..255 (float)."""
    codes, ties = _hard_bits(gray)
    fix = _lost_bits(gray, ties)
    if fix:
        codes[fix[0]] -= fix[1]
    return codes


def _lost_bits(gray, ties):
    """-> (pixel index, value of the sloped-tie bits scikit-image leaves unset there), or None."""
    if not ties.any():  # ties only where a corner equals the centre between a rising and a falling side
        return None
    n, _, r, c = ties.nonzero(as_tuple=True)
    t, lost = ties[n, 0, r, c].long(), torch.zeros_like(n)
    for j, p in enumerate((1, 3, 5, 7)):
        hit = ((t >> p) & 1).bool()
        lost[hit] += (~_skimage_ties(gray, j, n[hit], r[hit], c[hit])).long() << p
    return (n, 0, r, c), lost.to(torch.float32)


def _skimage_ties(gray, j, n, r, c):
    """scikit-image's float64 bilinear comparison for diagonal j (0..3) at pixels (n, r, c)."""
    h, w = gray.shape[-2:]

    def at(rows, cols):  # gray[n, rows, cols] as float64, 0 outside the image (skimage's mode 'C')
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        return torch.where(inside, gray[n, 0, rows.clamp(0, h - 1), cols.clamp(0, w - 1)].double(), 0.0)

    off_r, off_c = _OFFSETS[1::2][j]
    rr, cc = r.double() + off_r, c.double() + off_c
    r0, c0 = rr.floor(), cc.floor()
    dr, dc = rr - r0, cc - c0
    r0, c0 = r0.long(), c0.long()
    top = (1 - dc) * at(r0, c0) + dc * at(r0, c0 + 1)
    bottom = (1 - dc) * at(r0 + 1, c0) + dc * at(r0 + 1, c0 + 1)
    return (1 - dr) * top + dr * bottom - at(r, c) >= 0


def _float32(images):
    """LBP compares gray levels 1/255 apart: never under autocast's bf16/fp16."""
    return torch.autocast(images.device.type, enabled=False)


def lbp_hard(images):
    """N×3×H×W images in [-1, 1] -> N×1×H×W LBP map in [-1, 1] (code / 127.5 - 1). No gradient."""
    with torch.no_grad(), _float32(images):
        gray, lbp, ties = _hard_impl(images)
        fix = _lost_bits(gray, ties)
        if fix:
            lbp[fix[0]] = (torch.round((lbp[fix[0]] + 1) * 127.5) - fix[1]) / 127.5 - 1
        return lbp


def _hard(images):
    gray = gray8(images)
    codes, ties = _hard_bits(gray)
    return gray.to(torch.uint8), codes / 127.5 - 1, ties


def lbp_soft(images, temperature=1.0):
    """Differentiable LBP map in [-1, 1]: bit p = sigmoid((neighbour_p - centre) / t).

    t is in gray levels (0..255 scale); as t -> 0 this tends to the hard code of the same
    (unquantised) gray image.
    """
    with _float32(images):
        return _soft_impl(images.float(), temperature)


def _soft(images, temperature):
    axis, diag = _neighbour_diffs(gray_continuous(images))
    diffs = list(axis.items()) + [(p, _W_CORNER * corner + _W_SIDE * sides) for p, (corner, sides) in diag.items()]
    return sum(torch.sigmoid(d / temperature) * 2 ** p for p, d in diffs) / 127.5 - 1


def lbp_from_rgb8(rgb8):
    """H×W×3 uint8 numpy array -> H×W uint8 LBP codes (for evaluation scripts)."""
    x = torch.from_numpy(rgb8).permute(2, 0, 1)[None].float() / 127.5 - 1
    return lbp_codes(gray8(x))[0, 0].to(torch.uint8).numpy()


_hard_impl, _soft_impl = _hard, _soft


def compile_lbp(enabled=True):
    """Use torch.compile'd (fused, one pass over memory) LBP kernels; see README "Performance"."""
    global _hard_impl, _soft_impl
    if enabled:
        _hard_impl = torch.compile(_hard, dynamic=False)
        _soft_impl = torch.compile(_soft, dynamic=False)
    else:
        _hard_impl, _soft_impl = _hard, _soft
