"""The LBP operators: 'classic' against a per-pixel reference, 'skimage' against scikit-image,
and the soft LBP's agreement with the hard one, its gradient, dtype and compiled form."""
import numpy as np
import pytest
import torch
from skimage import data
from skimage.color import rgb2gray
from skimage.feature import local_binary_pattern
from skimage.util import img_as_ubyte

from util.lbp import DEFAULT_TEMPERATURE, LBP, gray8, lbp_codes, lbp_from_rgb8, lbp_hard, lbp_soft

PHOTOS = ['astronaut', 'coffee', 'chelsea', 'camera', 'rocket', 'coins']


def rgb(name):
    im = getattr(data, name)()
    return np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]


def skimage_reference(im):
    return local_binary_pattern(img_as_ubyte(rgb2gray(im)), P=8, R=1, method='default')


def classic_reference(gray):
    """The 3×3 LBP pixel by pixel: clockwise from the top-left, neighbour >= centre, outside = 0."""
    h, w = gray.shape
    codes = np.zeros((h, w), np.int64)
    for r in range(h):
        for c in range(w):
            for bit, (dr, dc) in enumerate([(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]):
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and gray[rr, cc] >= gray[r, c]:
                    codes[r, c] += 2 ** bit
    return codes


def to_tensor(im):
    return torch.from_numpy(im).permute(2, 0, 1)[None].float() / 127.5 - 1


def codes_of(lbp_map):
    return np.round((lbp_map[:, 0].numpy() + 1) * 127.5)


# ---- 'classic' (the default): the paper authors' 3×3 operator ----
@pytest.mark.parametrize('name', PHOTOS)
def test_classic_equals_per_pixel_reference_on_photos(name):
    # Two crops per photo, so that both the top/left and the bottom/right borders are checked.
    gray = img_as_ubyte(rgb2gray(rgb(name)))
    for crop in (gray[:48, :64], gray[-48:, -64:]):
        ours = lbp_codes(torch.from_numpy(crop).float()[None, None])[0, 0].numpy()
        assert np.array_equal(ours, classic_reference(crop))


@pytest.mark.parametrize('shape', [(40, 56), (1, 17), (17, 1), (1, 1), (2, 3)])
def test_classic_equals_per_pixel_reference_on_random_images(shape):
    rng = np.random.default_rng(sum(shape))
    ims = rng.integers(0, 256, (4, *shape, 3), dtype=np.uint8)
    ims[1], ims[2] = 0, 255  # pure black, pure white: ties everywhere
    ims[3, : shape[0] // 2] = 128
    codes = codes_of(lbp_hard(torch.cat([to_tensor(im) for im in ims])))
    for im, ours in zip(ims, codes):
        assert np.array_equal(ours, classic_reference(gray8(to_tensor(im))[0, 0].numpy()))


def test_classic_flat_image_codes_by_position():
    # Inside: every neighbour ties -> 255. Top-left corner: only R, BR, B exist -> 8 + 16 + 32.
    codes = codes_of(lbp_hard(torch.zeros(1, 3, 5, 6)))[0]
    assert codes[2, 2] == 255 and codes[0, 0] == 8 + 16 + 32 and codes[4, 5] == 1 + 2 + 128


def test_classic_gray_matches_skimage_gray_from_rgb():
    # From RGB the gray differs from rgb2gray + img_as_ubyte only where the float64 luminance lands
    # exactly on x.5 (a handful of pixels), so the codes agree almost everywhere.
    im = rgb('astronaut')
    ref = classic_reference(img_as_ubyte(rgb2gray(im))[:96, :96])
    assert (lbp_from_rgb8(im[:96, :96]) == ref).mean() >= 0.999


# ---- 'skimage': scikit-image's circular operator ----
@pytest.mark.parametrize('name', PHOTOS)
def test_skimage_codes_equal_skimage_on_its_gray(name):
    # Given the same 8-bit gray image, the codes are exactly scikit-image's, ties included.
    gray = img_as_ubyte(rgb2gray(rgb(name)))
    ours = lbp_codes(torch.from_numpy(gray).float()[None, None], 'skimage')[0, 0].numpy()
    assert np.array_equal(ours, local_binary_pattern(gray, P=8, R=1, method='default'))


@pytest.mark.parametrize('name', PHOTOS)
def test_skimage_from_rgb_matches_skimage(name):
    # Differences come only from rgb2gray's float64 luminance landing exactly on x.5.
    im = rgb(name)
    ref = skimage_reference(im)
    assert (lbp_from_rgb8(im, 'skimage') == ref).mean() >= 0.9999
    lbp = lbp_hard(to_tensor(im), 'skimage')[0, 0].numpy()
    assert lbp.min() >= -1 and lbp.max() <= 1
    assert (np.round((lbp + 1) * 127.5) == ref).mean() >= 0.9999


def test_skimage_equals_skimage_on_random_images():
    rng = np.random.default_rng(0)
    ims = rng.integers(0, 256, (3, 40, 56, 3), dtype=np.uint8)
    ims[1, 10:30, 10:30] = 128  # flat area: ties everywhere
    codes = codes_of(lbp_hard(torch.cat([to_tensor(im) for im in ims]), 'skimage'))
    for im, ours in zip(ims, codes):
        assert np.array_equal(ours, skimage_reference(im))


# ---- both ----
@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_batched_equals_one_by_one(variant):
    x = torch.rand(4, 3, 24, 32) * 2 - 1
    whole = lbp_hard(x, variant)
    assert whole.shape == (4, 1, 24, 32)
    for i in range(4):
        assert torch.equal(whole[i:i + 1], lbp_hard(x[i:i + 1], variant))


# ---- the soft LBP agrees with the hard one ----
AGREEMENT = {  # variant -> (bound on the mean, on the 99th percentile) of |soft - hard| in codes
    'classic': (1.0, 4.0),    # the bound
    'skimage': (1.0, 4.0),    # the same bound holds with the diagonal gap rescaled (util/lbp.py)
}


def soft_hard_gap(images, variant, temperature=DEFAULT_TEMPERATURE):
    op = LBP(variant, temperature)
    return ((op.soft(images) - op.hard(images)).abs() * 127.5).flatten().numpy()


@pytest.mark.parametrize('variant', ['classic', 'skimage'])
@pytest.mark.parametrize('name', ['astronaut', 'coffee', 'chelsea', 'rocket', 'camera', 'flat'])
def test_soft_agrees_with_hard_on_8bit_images(variant, name):
    im = np.full((64, 64, 3), 128, np.uint8) if name == 'flat' else rgb(name)
    gap = soft_hard_gap(to_tensor(im), variant)
    mean_bound, p99_bound = AGREEMENT[variant]
    assert gap.mean() <= mean_bound and np.percentile(gap, 99) <= p99_bound


def test_soft_agreement_needs_the_tie_rule():
    # The old soft LBP (sigmoid(difference / 1) on unrounded grey) missed by half of every tied
    # bit; at t = 1 the flat image is still far off, so the bound above is not trivially met.
    assert soft_hard_gap(to_tensor(np.full((16, 16, 3), 128, np.uint8)), 'classic', 1.0).mean() > 50


@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_soft_lbp_has_gradients_on_a_continuous_image(variant):
    # A generated-like image: smooth, continuous values (not 8-bit levels).
    torch.manual_seed(0)
    x = torch.nn.functional.interpolate(torch.rand(2, 3, 8, 8) * 2 - 1, size=(32, 32), mode='bilinear')
    x.requires_grad_()
    soft = lbp_soft(x, variant=variant)
    assert soft.shape == (2, 1, 32, 32)
    (soft * torch.randn_like(soft)).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad != 0).float().mean() > 0.8


@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_lbp_is_float32_under_autocast(variant):
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.autocast('cpu', dtype=torch.bfloat16):
        soft, hard = lbp_soft(x, variant=variant), lbp_hard(x, variant)
    assert soft.dtype == hard.dtype == torch.float32
    assert torch.equal(hard, lbp_hard(x, variant))
    assert torch.allclose(soft, lbp_soft(x, variant=variant))


def test_gray8_is_exact_integer_luminance():
    x = torch.tensor([[[[1.0]], [[-1.0]], [[-1.0]]]])  # pure red -> round(255 * 0.2125) = 54
    assert gray8(x).item() == 54


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match='classic'):
        LBP('uniform')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_cuda_equals_cpu(variant):
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.equal(lbp_hard(x, variant), lbp_hard(x.cuda(), variant).cpu())
    assert torch.allclose(lbp_soft(x, variant=variant), lbp_soft(x.cuda(), variant=variant).cpu(), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_compiled_equals_eager(variant):
    im = to_tensor(rgb('astronaut')[:64, :96])
    eager, compiled = LBP(variant), LBP(variant, compile=True)
    assert torch.equal(compiled.hard(im), eager.hard(im))
    assert torch.allclose(compiled.soft(im), eager.soft(im), atol=1e-5)
