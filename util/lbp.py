"""Local binary patterns (8 neighbours, radius 1) as batched torch ops: hard, and differentiable.

Two operators (`variant`), both on the 8-bit luminance img_as_ubyte(rgb2gray(rgb)):
- 'classic' (default): the paper authors' extractor, the 3×3 LBP. Neighbours are the eight integer
  pixels, weighted clockwise from the top-left: TL 1, T 2, TR 4, R 8, BR 16, B 32, BL 64, L 128.
  A bit is set when neighbour >= centre; a neighbour outside the image gives 0. (The authors' code
  does that at the bottom/right border but wraps around at the top/left through negative indices,
  an indexing accident we do not reproduce.)
- 'skimage': local_binary_pattern(gray8, P=8, R=1, method='default'). Neighbour p sits at offset
  (-sin(2πp/8), cos(2πp/8)) rounded to 5 decimals, so the diagonals are bilinear mixes (weights
  0.70711 / 0.29289); outside pixels count as 0; bit p weighs 2**p.

The differentiable LBP of a generated image (what D_L needs a gradient through) is, in the forward
pass, exactly the hard LBP of the image's 8-bit rendering; in the backward pass each bit passes the
derivative of a smooth bit, sigmoid((d + 0.5) / width), of the *continuous* neighbour - centre
difference d (a straight-through surrogate, as for binary networks). The width, in grey levels,
sets how far from the threshold a difference still gets a gradient (docs/METHOD.md has the table).
`grad_colour` sets how that gradient reaches R, G and B: 'grey' (default) moves the three channels alike,
'luminance' by rgb2gray's weights, the chain rule's own, which pushes mostly green and, where the
surrogate asks for darker, magenta: the fringes docs/METHOD.md measures.

Every "neighbour - centre" difference is a weighted sum of shifted views of the grey image: a
handful of whole-tensor ops, no loop over pixels. `LBP(variant, grad_width, compile=True)` holds
torch.compile'd versions that fuse them into one pass over memory.
"""
import math

import torch
import torch.nn.functional as F

from util.machine import compile_cache_per_isa

VARIANTS = ('classic', 'skimage')
DEFAULT_GRAD_WIDTH = 2.0  # grey levels: the widest that keeps half the old gradient on every photo (docs/METHOD.md)
GRAD_COLOURS = ('grey', 'luminance')

# rgb2gray's luminance weights; multiplied by 10**4 they are integers, which makes the
# 8-bit gray of an 8-bit image exact: round(N / 10**4) with N = 2125 R + 7154 G + 721 B.
_GRAY = (0.2125, 0.7154, 0.0721)
_GRAY_INT = (2125, 7154, 721)
_OUTSIDE = -1e4  # grey level given to pixels outside the image in 'classic': never >= a centre

# 'classic': (row, col) offset of the neighbour of each bit, clockwise from the top-left.
_CLASSIC = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
# 'skimage': offsets of neighbour p, and the bilinear weights of a diagonal neighbour
# (|offset| = 0.70711 on both axes): the far corner, and each of the two axis neighbours beside it.
_OFFSETS = [(round(-math.sin(2 * math.pi * p / 8), 5), round(math.cos(2 * math.pi * p / 8), 5))
            for p in range(8)]
_W_CORNER = 0.70711 * 0.70711
_W_SIDE = 0.70711 * (1 - 0.70711)
_DIAG_SIDES = ((2, 0), (2, 4), (6, 4), (6, 0))  # the axis neighbours beside diagonals 1, 3, 5, 7


def gray8(images):
    """N×3×H×W images in [-1, 1] -> N×1×H×W float tensor of 8-bit gray levels (0..255, integral)."""
    rgb8 = torch.round((images.detach().float().clamp(-1, 1) + 1) * 127.5)
    n = sum(rgb8[:, i:i + 1] * w for i, w in enumerate(_GRAY_INT))  # exact: integers below 2**24
    return torch.round(n / 10000)  # round half to even, as img_as_ubyte's rint


def gray_continuous(images, grad_colour='luminance'):
    """N×3×H×W in [-1, 1] -> N×1×H×W luminance on the 0..255 scale, differentiable.

    grad_colour 'grey': the same values, but the gradient reaches R, G and B alike, with the weight
    (sum of squared luminance weights) that changes luminance as much per step as the exact gradient
    does; the exact one ('luminance') is 72 % green, so it also moves the colour along green-magenta."""
    w = torch.tensor(_GRAY, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    lum = ((images + 1) * 127.5 * w).sum(1, keepdim=True)
    if grad_colour == 'luminance':
        return lum
    flat = images.sum(1, keepdim=True) * (127.5 * sum(v * v for v in _GRAY))
    return lum.detach() + (flat - flat.detach())


def _shifted(gray, pad_value):
    """f(dr, dc) -> the map of neighbour (r + dr, c + dc) minus centre, pad_value outside."""
    h, w = gray.shape[-2:]
    padded = F.pad(gray, (1, 1, 1, 1), value=pad_value)
    return lambda dr, dc: padded[..., 1 + dr:1 + dr + h, 1 + dc:1 + dc + w] - gray


# ---- 'classic' ----
def _classic_diffs(gray):
    shift = _shifted(gray, _OUTSIDE)
    return [shift(dr, dc) for dr, dc in _CLASSIC]


def _classic_hard(gray):
    return sum((d >= 0).to(gray.dtype) * 2 ** p for p, d in enumerate(_classic_diffs(gray)))


def _smooth_codes(diffs, width):
    """sum_p 2^p · sigmoid((d_p + 0.5) / width): its gradient is the surrogate of the hard bits'."""
    return sum(torch.sigmoid((d + 0.5) / width) * 2 ** p for p, d in diffs)


def _classic_smooth(gray, width):
    return _smooth_codes(enumerate(_classic_diffs(gray)), width)


# ---- 'skimage' ----
def _skimage_diffs(gray):
    """The eight neighbour_p - centre maps of gray (N×1×H×W) in scikit-image's geometry.

    A diagonal neighbour is skimage's bilinear mix w_c·corner + w_s·(side_a + side_b) + (rest)·centre
    with weights summing to 1, so its difference is w_c·Δcorner + w_s·(Δside_a + Δside_b).
    Returns (axis diffs {p: Δ}, {p: (Δcorner, Δside_a + Δside_b)} for the diagonals).
    """
    shift = _shifted(gray, 0.0)  # zero outside the image, as skimage
    axis = {p: shift(int(dr), int(dc)) for p, (dr, dc) in enumerate(_OFFSETS) if p % 2 == 0}
    diag = {p: (shift(int(math.copysign(1, dr)), int(math.copysign(1, dc))), axis[a] + axis[b])
            for p, (dr, dc), (a, b) in zip((1, 3, 5, 7), _OFFSETS[1::2], _DIAG_SIDES)}
    return axis, diag


def _skimage_hard(gray):
    """-> (codes with every diagonal tie counted as set, bitmask of the sloped ties).

    Gray levels are integers, so a diagonal difference is a tie exactly when Δcorner and
    Δside_a + Δside_b are both 0 (no float threshold needed). A flat tie counts as '>='; a
    sloped one (Δside_a = -Δside_b != 0) is float64 noise in skimage, redone by without_lost_bits.
    """
    axis, diag = _skimage_diffs(gray)
    codes = sum((d >= 0).to(gray.dtype) * 2 ** p for p, d in axis.items())
    ties = torch.zeros_like(gray)  # summed in float: fused kernels vectorise it, uint8 bit ops not
    for p, (corner, sides) in diag.items():
        tie = (corner == 0) & (sides == 0)
        codes = codes + ((_W_CORNER * corner + _W_SIDE * sides > 0) | tie).to(gray.dtype) * 2 ** p
        ties = ties + (tie & (axis[_DIAG_SIDES[p // 2][0]] != 0)).to(gray.dtype) * 2 ** p
    return codes, ties.to(torch.uint8)


def _skimage_smooth(gray, width):
    axis, diag = _skimage_diffs(gray)
    diffs = list(axis.items()) + [(p, _W_CORNER * corner + _W_SIDE * sides) for p, (corner, sides) in diag.items()]
    return _smooth_codes(diffs, width)


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


def without_lost_bits(codes, gray, ties):
    """'skimage' codes (from _skimage_hard, which sets every diagonal tie) without the sloped-tie bits
    that scikit-image's float64 arithmetic leaves unset; codes as they are when ties is None ('classic')."""
    fix = None if ties is None else _lost_bits(gray, ties)
    if fix is None:
        return codes
    codes = codes.clone()
    codes[fix[0]] -= fix[1]
    return codes


def _hard_codes(images, variant):
    """-> (codes, grey, sloped-tie mask or None): the part of the hard LBP that torch.compile fuses."""
    gray = gray8(images)
    if variant == 'classic':
        return _classic_hard(gray), gray, None
    codes, ties = _skimage_hard(gray)
    return codes, gray, ties


def _smooth(images, variant, width, grad_colour):
    """The smooth codes of the continuous luminance: only their gradient is used."""
    smooth = _classic_smooth if variant == 'classic' else _skimage_smooth
    return smooth(gray_continuous(images, grad_colour), width)


def _float32(images):
    """LBP compares gray levels 1/255 apart: never under autocast's bf16/fp16."""
    return torch.autocast(images.device.type, enabled=False)


class LBP:
    """The hard and the differentiable LBP maps of one operator; the model holds one (compiled with
    --compile).

    Maps are N×1×H×W in [-1, 1] (code / 127.5 - 1) from N×3×H×W images in [-1, 1], float32 even
    under autocast (LBP compares grey levels 1/255 apart).
    """

    def __init__(self, variant='classic', grad_width=DEFAULT_GRAD_WIDTH, compile=False, grad_colour='grey'):
        if variant not in VARIANTS:
            raise ValueError(f"LBP variant '{variant}': choose one of {', '.join(VARIANTS)}")
        if not grad_width > 0:
            raise ValueError(f"LBP gradient width {grad_width}: must be > 0 (grey levels)")
        if grad_colour not in GRAD_COLOURS:
            raise ValueError(f"LBP gradient colour '{grad_colour}': choose one of {', '.join(GRAD_COLOURS)}")
        self.variant, self.grad_width, self.grad_colour = variant, grad_width, grad_colour
        self._hard, self._smooth = _hard_codes, _smooth
        if compile:
            compile_cache_per_isa()
            self._hard = torch.compile(_hard_codes, dynamic=False)
            self._smooth = torch.compile(_smooth, dynamic=False)

    def codes(self, images):
        """Hard codes 0..255 (float), no gradient."""
        with torch.no_grad(), _float32(images):
            return without_lost_bits(*self._hard(images, self.variant))

    def hard(self, images):
        return self.codes(images) / 127.5 - 1

    def differentiable(self, images):
        """hard(images) exactly in the forward pass; the surrogate gradient in the backward pass.

        smooth - smooth.detach() is exactly 0.0, so the value is bit for bit hard()'s: D_L cannot
        tell a generated image from a photo by the operator.
        """
        with _float32(images):
            images = images.float()
            smooth = self._smooth(images, self.variant, self.grad_width, self.grad_colour)
            return (self.codes(images) + (smooth - smooth.detach())) / 127.5 - 1


def lbp_from_rgb8(rgb8, variant='classic'):
    """H×W×3 uint8 numpy array -> H×W uint8 LBP codes (for evaluation scripts)."""
    x = torch.from_numpy(rgb8).permute(2, 0, 1)[None].float() / 127.5 - 1
    return LBP(variant).codes(x)[0, 0].to(torch.uint8).numpy()
