"""SpectralConv2d must behave exactly as torch's spectral_norm parametrization (checkpoints,
outputs, gradients, power iteration), on both sides of its weight-or-output choice."""
import pytest
import torch
import torch.nn as nn
from torch.nn.utils import parametrizations

from models.networks.spectral import SpectralConv2d, spectral_norm

# (in, out, kernel, stride, padding, input size): the weight is larger than the output in the
# first two (the output is scaled), smaller in the last two (the weight is divided)
CASES = [(64, 96, 3, 1, 1, 4), (32, 48, 4, 2, 2, 6), (8, 16, 3, 1, 1, 24), (6, 8, 4, 2, 2, 32)]


def pair(cin, cout, k, s, p, bias=True, channels_last=False):
    torch.manual_seed(0)
    ref = parametrizations.spectral_norm(nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias))
    torch.manual_seed(0)
    ours = spectral_norm(nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias))
    if channels_last:
        ref, ours = (m.to(memory_format=torch.channels_last) for m in (ref, ours))
    return ref, ours


def test_same_parameters_buffers_and_state_dict_keys_as_torch():
    ref, ours = pair(8, 16, 3, 1, 1)
    assert isinstance(ours, SpectralConv2d)
    assert ref.state_dict().keys() == ours.state_dict().keys()
    for k, v in ref.state_dict().items():
        assert torch.equal(v, ours.state_dict()[k]), k
    ours.load_state_dict(ref.state_dict())  # a checkpoint written before loads as is


@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('channels_last', [False, True])
def test_forward_gradients_and_power_iteration_match_torch(case, bias, channels_last):
    cin, cout, k, s, p, size = case
    ref, ours = pair(cin, cout, k, s, p, bias, channels_last)
    x = torch.randn(2, cin, size, size)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    for step in range(3):  # u and v move at each training forward: they must keep agreeing
        xr, xo = x.clone().requires_grad_(), x.clone().requires_grad_()
        yr, yo = ref(xr), ours(xo)
        torch.testing.assert_close(yo, yr, rtol=1e-4, atol=1e-5)
        g = torch.randn_like(yr)
        (yr * g).sum().backward()
        (yo * g).sum().backward()
        pr, po = ref.parametrizations.weight, ours.parametrizations.weight
        torch.testing.assert_close(po.original.grad, pr.original.grad, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(xo.grad, xr.grad, rtol=1e-4, atol=1e-5)
        if bias:
            torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(po[0]._u, pr[0]._u, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(po[0]._v, pr[0]._v, rtol=1e-4, atol=1e-6)
        with torch.no_grad():  # a weight update, so the next power iteration has work to do
            for m in (ref, ours):
                m.parametrizations.weight.original.add_(0.05 * torch.sign(m.parametrizations.weight.original.grad))
                m.zero_grad()


def test_eval_keeps_u_and_v_and_still_normalises():
    ref, ours = pair(64, 96, 3, 1, 1)
    ref.eval(), ours.eval()
    u = ours.parametrizations.weight[0]._u.clone()
    x = torch.randn(1, 64, 4, 4)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-4, atol=1e-5)
    assert torch.equal(ours.parametrizations.weight[0]._u, u)


@pytest.mark.parametrize('case', [CASES[0], CASES[2]])
def test_bf16_autocast_channels_last_is_within_bf16_of_fp32(case):
    """The fast path: bf16 output, σ and the power iteration in fp32 (u, v as in fp32)."""
    cin, cout, k, s, p, size = case
    ref, ours = pair(cin, cout, k, s, p, channels_last=True)
    x = torch.randn(2, cin, size, size).to(memory_format=torch.channels_last)
    expect = ref(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = ours(x)
    assert y.dtype == torch.bfloat16
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y.float(), expect, rtol=2e-2, atol=2e-2)
    assert ours.parametrizations.weight[0]._u.dtype == torch.float32
    torch.testing.assert_close(ours.parametrizations.weight[0]._u, ref.parametrizations.weight[0]._u,
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('kwargs', [{'groups': 2}, {'dilation': 2}, {'padding_mode': 'reflect'}, {'padding': 'same'}])
def test_convs_with_other_options_keep_torchs_forward(kwargs):
    torch.manual_seed(0)
    ref = parametrizations.spectral_norm(nn.Conv2d(4, 8, 3, **{'padding': 1, **kwargs}))
    torch.manual_seed(0)
    ours = spectral_norm(nn.Conv2d(4, 8, 3, **{'padding': 1, **kwargs}))
    assert not isinstance(ours, SpectralConv2d)
    x = torch.randn(1, 4, 9, 9)
    torch.testing.assert_close(ours(x), ref(x))
