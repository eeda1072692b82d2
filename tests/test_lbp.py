"""The LBP operators: 'classic' against a per-pixel reference, 'skimage' against scikit-image;
the differentiable LBP of a generated image: exactly the hard one forward, a dense surrogate
gradient backward (its size and density on photos), its dtype and compiled form."""
import importlib.util
import os

import numpy as np
import pytest
import torch
from skimage import data
from skimage.color import rgb2gray
from skimage.feature import local_binary_pattern
from skimage.util import img_as_ubyte

from util.lbp import DEFAULT_GRAD_WIDTH, LBP, gray8, lbp_from_rgb8

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


def lbp_hard(images, variant='classic'):
    return LBP(variant).hard(images)


def gray_codes(gray, variant='classic'):
    """Codes of an 8-bit grey image, through an RGB image of three equal channels (whose 8-bit
    luminance is that grey: the weights sum to 1)."""
    return LBP(variant).codes(to_tensor(np.stack([gray] * 3, -1)))[0, 0].numpy()


def codes_of(lbp_map):
    return np.round((lbp_map[:, 0].numpy() + 1) * 127.5)


# ---- 'classic' (the default): the paper authors' 3×3 operator ----
@pytest.mark.parametrize('name', PHOTOS)
def test_classic_equals_per_pixel_reference_on_photos(name):
    # Two crops per photo, so that both the top/left and the bottom/right borders are checked.
    gray = img_as_ubyte(rgb2gray(rgb(name)))
    for crop in (gray[:48, :64], gray[-48:, -64:]):
        ours = gray_codes(crop)
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
    ours = gray_codes(gray, 'skimage')
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


# ---- the differentiable LBP of a generated image ----
def continuous_images(n=2, size=32, seed=0):
    """Generated-like images: smooth, continuous values (not 8-bit levels)."""
    torch.manual_seed(seed)
    return torch.nn.functional.interpolate(torch.rand(n, 3, 8, 8) * 2 - 1, size=(size, size), mode='bilinear')


@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_differentiable_forward_is_exactly_the_hard_lbp(variant):
    # Bit for bit what the hard operator gives for the image's 8-bit rendering, on continuous
    # images, on photos and on a flat image: D_L cannot tell fake from real by the operator.
    op = LBP(variant)
    photos = torch.cat([to_tensor(rgb(name)[:48, :64]) for name in PHOTOS])
    flat = torch.zeros(1, 3, 16, 16)
    for x in (continuous_images(), photos, flat):
        x = x.clone().requires_grad_()
        out = op.differentiable(x)
        assert out.requires_grad and torch.equal(out.detach(), op.hard(x))
        rendered = torch.from_numpy(np.stack([(np.round((im.detach().numpy().transpose(1, 2, 0) + 1) * 127.5))
                                              for im in x.clamp(-1, 1)])).permute(0, 3, 1, 2) / 127.5 - 1
        assert torch.equal(out.detach(), op.hard(rendered.float()))  # of the 8-bit image test.py saves


def load_width_script():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'scripts', 'lbp_grad_width.py')
    spec = importlib.util.spec_from_file_location('lbp_grad_width', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_surrogate_gradient_is_dense_and_large_on_textured_photos():
    # On 128×128 crops of scikit-image's textured photos, for a random weighting of the LBP map: the
    # mean |gradient| at the default width is at least half the old soft LBP's (sigmoid(d / 1) on the
    # continuous grey), and at least half of the pixels get a tenth of that old mean.
    script = load_width_script()
    images = {k: v for k, v in script.crops().items() if k != 'smooth'}
    assert set(images) == {'astronaut', 'coffee', 'chelsea', 'rocket', 'camera', 'gravel', 'brick'}
    table = script.measure([DEFAULT_GRAD_WIDTH, 16.0], 'classic', images)
    for name, (mean, share) in table[DEFAULT_GRAD_WIDTH].items():
        assert mean >= 0.5 and share >= 0.5, name
    # the bound can fail: a wide surrogate spreads the same total too thin
    assert min(mean for mean, _ in table[16.0].values()) < 0.5


def test_old_soft_lbp_of_the_measurement_is_the_first_formula():
    # sigmoid(d) per bit on the continuous grey: on a flat image every bit is 0.5, code 127.5 -> 0
    script = load_width_script()
    assert torch.allclose(script.old_soft(torch.zeros(1, 3, 8, 8))[0, 0, 3:5, 3:5], torch.zeros(2, 2), atol=1e-6)


@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_surrogate_gradient_reaches_most_pixels_of_a_continuous_image(variant):
    x = continuous_images().requires_grad_()
    out = LBP(variant).differentiable(x)
    assert out.shape == (2, 1, 32, 32)
    (out * torch.randn_like(out)).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad != 0).float().mean() > 0.8


@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_grey_gradient_moves_the_channels_alike_and_as_much_luminance(variant):
    # 'grey' (default): the surrogate reaches R, G and B with one value per pixel, so it changes no colour,
    # and a step along it changes luminance as much as a step along the exact ('luminance') gradient;
    # the exact one is mostly green. The forward is the same hard LBP.
    x = continuous_images()
    r = torch.randn(2, 1, 32, 32)
    grads = {}
    for colour in ('grey', 'luminance'):
        x1 = x.clone().requires_grad_()
        out = LBP(variant, grad_colour=colour).differentiable(x1)
        assert torch.equal(out.detach(), LBP(variant).hard(x))
        (out * r).sum().backward()
        grads[colour] = x1.grad
    grey, lum = grads['grey'], grads['luminance']
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    assert torch.allclose(lum[:, 1], lum[:, 0] * 0.7154 / 0.2125, rtol=1e-4, atol=1e-9)  # green 3.4x red
    w = torch.tensor([0.2125, 0.7154, 0.0721]).view(1, 3, 1, 1)
    assert torch.allclose((grey * w).sum(1), (lum * w).sum(1), rtol=1e-4, atol=1e-9)
    with pytest.raises(ValueError, match='grey, luminance'):
        LBP(variant, grad_colour='green')


def test_grad_width_scales_the_surrogate():
    # sigmoid((d + 0.5) / w): a narrow width passes gradient only near the threshold
    x = continuous_images()
    shares = []
    for width in (0.05, DEFAULT_GRAD_WIDTH):
        x1 = x.clone().requires_grad_()
        LBP('classic', width).differentiable(x1).sum().backward()
        shares.append((x1.grad.abs() > 1e-6).float().mean().item())
    assert shares[0] < 0.6 and shares[1] > 0.95
    with pytest.raises(ValueError, match='> 0'):
        LBP('classic', 0)


@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_lbp_is_float32_under_autocast(variant):
    x = continuous_images()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out, hard = LBP(variant).differentiable(x), lbp_hard(x, variant)
    assert out.dtype == hard.dtype == torch.float32
    assert torch.equal(hard, lbp_hard(x, variant)) and torch.equal(out, hard)


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
    assert torch.equal(LBP(variant).differentiable(x), LBP(variant).differentiable(x.cuda()).cpu())


@pytest.mark.slow
@pytest.mark.parametrize('variant', ['classic', 'skimage'])
def test_compiled_equals_eager(variant):
    im = to_tensor(rgb('astronaut')[:64, :96])
    eager, compiled = LBP(variant), LBP(variant, compile=True)
    assert torch.equal(compiled.hard(im), eager.hard(im))
    assert torch.equal(compiled.differentiable(im), eager.hard(im))
    x1, x2 = continuous_images().requires_grad_(), continuous_images().requires_grad_()
    compiled.differentiable(x1).sum().backward()
    eager.differentiable(x2).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-5)
