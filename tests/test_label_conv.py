"""LabelConv2d (the conv of the one-hot label map, by lookup from the ids) against F.conv2d."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from models.networks.label_conv import LabelConv2d
from models.networks.semantics import DenseSemantics, Semantics

SIZES = [(4, 8), (16, 32), (33, 17), (64, 128)]
KERNELS = [(3, 1, 1), (4, 2, 2)]  # (kernel, stride, padding): G's 3×3 convs, D's first layer
BF16 = dict(atol=1e-2, rtol=1.6e-2)  # ~2 bf16 ulps at |y| ~ 1 (the conv itself is 1 ulp from fp32)


def semantics(n, size, num_classes=7, edge=True, dontcare=False, seed=0):
    """Blocky random label map (ids in [0, C), C = num_classes + dontcare) and 0/1 edge map."""
    g = torch.Generator().manual_seed(seed)
    c = num_classes + dontcare
    h, w = size
    ids = torch.randint(0, c, (n, 1, (h + 1) // 2, (w + 1) // 2), generator=g)
    ids = ids.repeat_interleave(2, 2).repeat_interleave(2, 3)[..., :h, :w]
    ids[..., ::3, ::5] = torch.randint(0, c, ids[..., ::3, ::5].shape, generator=g)  # odd pixels too
    if dontcare:
        ids[0, 0, 0, 0] = c - 1
    e = (torch.rand(n, 1, h, w, generator=g) < 0.3).float() if edge else None
    return Semantics(ids, c, e)


def pair(sem, out, kernel, stride, padding, dense_nc=0, bias=True, seed=0):
    """An nn.Conv2d and a LabelConv2d (always taking the lookup path) with the same weights."""
    torch.manual_seed(seed)
    conv = nn.Conv2d(sem.channels + dense_nc, out, kernel, stride=stride, padding=padding, bias=bias)
    label = LabelConv2d(sem.channels + dense_nc, out, kernel, stride=stride, padding=padding, bias=bias)
    label.load_state_dict(conv.state_dict())
    label.min_pixels = 0
    return conv, label


def grads(y, tensors, seed=1):
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed)).to(y.dtype)
    return torch.autograd.grad(y, tensors, g)


def check(conv, label, sem, dense=None, groups=1, autocast=False, **tol):
    """Forward and all gradients of label(sem, dense) equal to the conv of the concatenation."""
    if dense is not None:
        dense = dense.clone().requires_grad_()
    params, lparams = list(conv.parameters()), list(label.parameters())  # (spectral norm: weight_orig)
    assert [p.shape for p in params] == [p.shape for p in lparams]
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        onehot = sem.one_hot().repeat(groups, 1, 1, 1)
        ref = conv(onehot if dense is None else torch.cat([onehot, dense], 1))
        out = label(sem, dense)
    assert out.dtype == ref.dtype and out.shape == ref.shape
    torch.testing.assert_close(out, ref, **tol)
    extra = [dense] if dense is not None else []
    for a, b in zip(grads(out, lparams + extra), grads(ref, params + extra)):
        assert a.dtype == b.dtype
        scale = b.abs().max().clamp(min=1)  # sums over many pixels: compare relative to the largest
        torch.testing.assert_close(a / scale, b / scale, **tol)


@pytest.mark.parametrize('size', SIZES)
@pytest.mark.parametrize('kernel,stride,padding', KERNELS)
@pytest.mark.parametrize('edge,dontcare', [(True, True), (False, False), (True, False)])
def test_forward_and_gradients_fp32(size, kernel, stride, padding, edge, dontcare):
    sem = semantics(2, size, edge=edge, dontcare=dontcare)
    conv, label = pair(sem, 16, kernel, stride, padding)
    check(conv, label, sem, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('size', SIZES)
@pytest.mark.parametrize('kernel,stride,padding', KERNELS)
def test_forward_and_gradients_bf16_autocast(size, kernel, stride, padding):
    sem = semantics(2, size, dontcare=True)
    conv, label = pair(sem, 16, kernel, stride, padding)
    check(conv, label, sem, autocast=True, **BF16)


@pytest.mark.parametrize('autocast,tol', [(False, dict(atol=1e-5, rtol=1e-5)), (True, BF16)])
@pytest.mark.parametrize('n', [1, 2])
def test_discriminator_layer_label_part_reused(autocast, tol, n):
    """D's first layer: dense = image channels of k·N samples (fakes, real) sharing N label maps."""
    sem = semantics(n, (33, 17), dontcare=True)
    conv, label = pair(sem, 8, 4, 2, 2, dense_nc=3)
    images = torch.randn(3 * n, 3, 33, 17)
    check(conv, label, sem, images, groups=3, autocast=autocast, **tol)


def test_label_part_and_dense_part():
    sem = semantics(2, (16, 32))
    conv, label = pair(sem, 8, 4, 2, 2, dense_nc=3)
    part = label.label_part(sem)
    xs = [torch.randn(2, 3, 16, 32) for _ in range(3)]
    for x in xs:  # one label part, several dense inputs
        ref = conv(torch.cat([sem.one_hot(), x], 1))
        torch.testing.assert_close(LabelConv2d.combine(part, label.dense_part(x)), ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(label(sem, torch.cat(xs)), conv(torch.cat([torch.cat([sem.one_hot(), x], 1) for x in xs])),
                               atol=1e-5, rtol=1e-5)


def test_coco_sized_label_map_without_bias():
    sem = semantics(1, (33, 17), num_classes=182, dontcare=True)
    conv, label = pair(sem, 32, 3, 1, 1, bias=False)
    check(conv, label, sem, atol=1e-5, rtol=1e-5)


def test_small_outputs_use_the_dense_conv():
    sem = semantics(1, (8, 8))
    conv, label = pair(sem, 16, 3, 1, 1)
    label.min_pixels = LabelConv2d.min_pixels
    check(conv, label, sem, atol=1e-5, rtol=1e-5)
    check(conv, label, sem, autocast=True, **BF16)


def test_channels_last_module():
    sem = semantics(2, (16, 32))
    conv, label = pair(sem, 16, 3, 1, 1)
    conv, label = conv.to(memory_format=torch.channels_last), label.to(memory_format=torch.channels_last)
    assert label(sem).is_contiguous(memory_format=torch.channels_last)
    assert pair(sem, 16, 3, 1, 1)[1](sem).is_contiguous()  # as the conv: contiguous weights, contiguous output
    check(conv, label, sem, atol=1e-5, rtol=1e-5)
    check(conv, label, sem, autocast=True, **BF16)


def test_state_dict_is_the_convs():
    conv, label = nn.Conv2d(10, 16, 3, padding=1), LabelConv2d(10, 16, 3, padding=1)
    assert {k: v.shape for k, v in conv.state_dict().items()} == {k: v.shape for k, v in label.state_dict().items()}
    conv.load_state_dict(label.state_dict())
    with pytest.raises(ValueError):
        LabelConv2d(10, 16, 3, padding=1, padding_mode='reflect')
    with pytest.raises(ValueError):  # 7 + edge label channels, no dense channels: not 10 inputs
        label(semantics(1, (4, 8)))


@pytest.mark.parametrize('train', [True, False])
def test_spectral_norm(train):
    sem = semantics(2, (16, 32))
    conv, label = pair(sem, 16, 3, 1, 1)
    conv, label = spectral_norm(conv), spectral_norm(label)
    label.load_state_dict(conv.state_dict())  # same u, v
    conv.train(train), label.train(train)
    for _ in range(2):  # in training each forward runs one power iteration, in both
        check(conv, label, sem, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(label.parametrizations.weight[0]._u, conv.parametrizations.weight[0]._u)


@pytest.mark.parametrize('src,dst', [((33, 17), (8, 4)), ((16, 32), (33, 17)), ((64, 128), (16, 32)),
                                     ((4, 8), (64, 128)), ((33, 17), (33, 17))])
def test_resize_is_nearest_interpolation_of_the_one_hot(src, dst):
    sem = semantics(2, src, dontcare=True)
    small = sem.resize(dst)
    assert torch.equal(small.one_hot(), F.interpolate(sem.one_hot(), size=dst, mode='nearest'))
    assert small.shape == (2, sem.channels, *dst)
    conv, label = pair(small, 8, 3, 1, 1)
    check(conv, label, small, atol=1e-5, rtol=1e-5)


def test_semantics_from_label():
    label = torch.tensor([[[[0., 2.], [1., 2.]]]])
    sem = Semantics.from_label(label, 3, torch.tensor([[[[0., 1.], [0., 0.]]]]))
    assert sem.channels == 4 and len(sem) == 1
    dense = torch.tensor([[[1, 0], [0, 0]], [[0, 0], [1, 0]], [[0, 1], [0, 1]], [[0, 1], [0, 0]]]).float()
    assert torch.equal(sem.one_hot()[0], dense)


def test_layers_sharing_a_semantics_object():
    """Index plans are cached on the Semantics (and its resize()); every layer stays exact."""
    sem = semantics(2, (33, 17), dontcare=True)
    small = sem.resize((16, 8))
    assert sem.resize((16, 8)) is small and sem.resize((33, 17)) is sem
    for size_sem in (sem, small, sem):
        for out, (kernel, stride, padding), dense_nc in [(16, KERNELS[0], 0), (8, KERNELS[1], 3), (4, KERNELS[0], 1)]:
            conv, label = pair(size_sem, out, kernel, stride, padding, dense_nc=dense_nc, seed=out)
            dense = torch.randn(len(size_sem), dense_nc, *size_sem.shape[2:]) if dense_nc else None
            check(conv, label, size_sem, dense, atol=1e-5, rtol=1e-5)
    assert len(sem._cache) == 2


def test_dense_semantics_are_read_by_plain_convolutions():
    """D's smaller scales: the pooled one-hot map (DenseSemantics) through the same layer."""
    sem = semantics(2, (16, 32), dontcare=True)
    conv, label = pair(sem, 8, 4, 2, 2, dense_nc=3)
    pool = lambda m: F.avg_pool2d(m, 3, stride=2, padding=1, count_include_pad=False)
    pooled = sem.pooled(pool)
    assert isinstance(pooled, DenseSemantics) and pooled.shape == (2, sem.channels, 8, 16)
    assert torch.equal(pooled.dense_map(), pool(sem.one_hot()))
    images = torch.randn(4, 3, 8, 16)
    ref = conv(torch.cat([pooled.dense_map().repeat(2, 1, 1, 1), images], 1))
    torch.testing.assert_close(label(pooled, images), ref, atol=1e-5, rtol=1e-5)
    assert torch.equal(pooled.pooled(pool).dense_map(), pool(pool(sem.one_hot())))
