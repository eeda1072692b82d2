"""The LBP operator against scikit-image, and the soft variant's gradient and limit."""
import numpy as np
import pytest
import torch
from skimage import data
from skimage.color import rgb2gray
from skimage.feature import local_binary_pattern
from skimage.util import img_as_ubyte

from util.lbp import compile_lbp, gray8, lbp_codes, lbp_from_rgb8, lbp_hard, lbp_soft

PHOTOS = ['astronaut', 'coffee', 'chelsea', 'camera', 'rocket', 'coins']


def rgb(name):
    im = getattr(data, name)()
    return np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]


def reference(im):
    return local_binary_pattern(img_as_ubyte(rgb2gray(im)), P=8, R=1, method='default')


def to_tensor(im):
    return torch.from_numpy(im).permute(2, 0, 1)[None].float() / 127.5 - 1


@pytest.mark.parametrize('name', PHOTOS)
def test_codes_equal_skimage_on_its_gray(name):
    # Given the same 8-bit gray image, the codes are exactly scikit-image's, ties included.
    gray = img_as_ubyte(rgb2gray(rgb(name)))
    ours = lbp_codes(torch.from_numpy(gray).float()[None, None])[0, 0].numpy()
    assert np.array_equal(ours, local_binary_pattern(gray, P=8, R=1, method='default'))


@pytest.mark.parametrize('name', PHOTOS)
def test_hard_lbp_from_rgb_matches_skimage(name):
    # From RGB the only differences come from rgb2gray's float64 luminance landing exactly on
    # a half gray level (x.5), which img_as_ubyte rounds by float noise while we round the exact
    # integer value half-to-even: one gray level off at a handful of pixels.
    im = rgb(name)
    ref = reference(im)
    assert (lbp_from_rgb8(im) == ref).mean() >= 0.9999
    lbp = lbp_hard(to_tensor(im))[0, 0].numpy()
    assert lbp.min() >= -1 and lbp.max() <= 1
    assert (np.round((lbp + 1) * 127.5) == ref).mean() >= 0.9999


def test_hard_lbp_equals_skimage_on_random_images():
    rng = np.random.default_rng(0)
    ims = rng.integers(0, 256, (3, 40, 56, 3), dtype=np.uint8)
    ims[1, 10:30, 10:30] = 128  # flat area: ties everywhere
    codes = np.round((lbp_hard(torch.cat([to_tensor(im) for im in ims]))[:, 0].numpy() + 1) * 127.5)
    for im, ours in zip(ims, codes):
        assert np.array_equal(ours, reference(im))


def test_batched_equals_one_by_one():
    x = torch.rand(4, 3, 24, 32) * 2 - 1
    whole = lbp_hard(x)
    assert whole.shape == (4, 1, 24, 32)
    for i in range(4):
        assert torch.equal(whole[i:i + 1], lbp_hard(x[i:i + 1]))


def test_soft_lbp_has_gradients_to_the_input():
    x = (torch.rand(2, 3, 16, 16) * 2 - 1).requires_grad_()
    soft = lbp_soft(x, temperature=2.0)
    assert soft.shape == (2, 1, 16, 16)
    soft.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_soft_lbp_tends_to_hard_as_temperature_falls():
    # Continuous random images have no ties, so the limit is the hard code of the same gray image.
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    gray = ((x + 1) * 127.5 * torch.tensor([0.2125, 0.7154, 0.0721]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    hard = lbp_codes(gray) / 127.5 - 1
    errors = [(lbp_soft(x, t) - hard).abs().mean().item() for t in (10.0, 1.0, 0.1, 0.001)]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-3 < errors[0]


def test_lbp_is_float32_under_autocast():
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.autocast('cpu', dtype=torch.bfloat16):
        soft, hard = lbp_soft(x), lbp_hard(x)
    assert soft.dtype == hard.dtype == torch.float32
    assert torch.equal(hard, lbp_hard(x))
    assert torch.allclose(soft, lbp_soft(x))


def test_gray8_is_exact_integer_luminance():
    x = torch.tensor([[[[1.0]], [[-1.0]], [[-1.0]]]])  # pure red -> round(255 * 0.2125) = 54
    assert gray8(x).item() == 54


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_equals_cpu():
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.equal(lbp_hard(x), lbp_hard(x.cuda()).cpu())
    assert torch.allclose(lbp_soft(x), lbp_soft(x.cuda()).cpu(), atol=1e-5)


def test_compiled_kernels_equal_eager():
    im = to_tensor(rgb('astronaut')[:64, :96])
    eager_hard, eager_soft = lbp_hard(im), lbp_soft(im)
    compile_lbp(True)
    try:
        assert torch.equal(lbp_hard(im), eager_hard)
        assert torch.allclose(lbp_soft(im), eager_soft, atol=1e-5)
    finally:
        compile_lbp(False)
