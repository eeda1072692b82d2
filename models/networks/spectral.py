"""Spectral norm (Miyato et al.) for convolutions, dividing by σ on the smaller side.

    conv(x, W / σ) + b  ==  conv(x, W) · (1/σ) + b

torch's parametrization divides the weight on every read. For G_I's 1024×1024×3×3 convs
(9.4 M values, on 16×16 or 32×32 maps) the division, its backward, the channels_last copy of
`flatten` and autocast's cast of the divided weight cost more than the conv itself (a profile of
the CPU iteration: about a fifth of the bf16 iteration). `SpectralConv2d` keeps torch's parametrization
(same state_dict keys, u/v buffers and power iteration, so checkpoints are unchanged) and
scales the output instead whenever the output has fewer values than the weight. σ and the
power iteration always run in fp32, outside autocast (CUDA's autocast would run `mv` in fp16).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrizations


def spectral_norm(module):
    """torch's spectral-norm parametrization; a plain nn.Conv2d (no groups, dilation or padding
    mode, which SpectralConv2d's forward does not pass on) also gets SpectralConv2d's forward
    (only the forward differs: parameters, buffers and their initialisation are torch's)."""
    if (type(module) is nn.Conv2d and module.groups == 1 and module.dilation == (1, 1)
            and module.padding_mode == 'zeros' and not isinstance(module.padding, str)):
        module.__class__ = SpectralConv2d
    return parametrizations.spectral_norm(module)


class SpectralConv2d(nn.Conv2d):
    """An nn.Conv2d under torch's spectral_norm parametrization (use `spectral_norm(conv)`)."""

    def forward(self, x):
        w = self.parametrizations.weight.original
        sigma = self.sigma()
        n, _, h, wd = x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        out_numel = n * self.out_channels * ((h + 2 * ph - kh) // sh + 1) * ((wd + 2 * pw - kw) // sw + 1)
        if w.numel() <= out_numel:
            return F.conv2d(x, w / sigma, self.bias, self.stride, self.padding)
        y = F.conv2d(x, w, None, self.stride, self.padding)
        scale = (1 / sigma).to(y.dtype)
        if self.bias is None:
            return y * scale
        return torch.addcmul(self.bias.to(y.dtype).view(-1, 1, 1), y, scale)

    def sigma(self):
        """σ = uᵀ W v (gradient to W through u vᵀ, as torch's), after the power iteration in training."""
        sn, w = self.parametrizations.weight[0], self.parametrizations.weight.original
        with torch.autocast(w.device.type, enabled=False):
            mat, to_mat, from_mat = _as_matrix(w.float())
            if sn.training:
                with torch.no_grad():
                    v = to_mat(sn._v)
                    for _ in range(sn.n_power_iterations):
                        F.normalize(torch.mv(mat, v), dim=0, eps=sn.eps, out=sn._u)
                        v = F.normalize(torch.mv(mat.t(), sn._u), dim=0, eps=sn.eps)
                    sn._v.copy_(from_mat(v))
            # clones: later in-place updates of u, v must not touch this forward's graph
            return torch.vdot(sn._u.clone(), torch.mv(mat, to_mat(sn._v).clone()))


def _as_matrix(w):
    """W as out × (in·kh·kw) without copying, and the maps of v into / out of its column order.

    torch orders the columns (in, kh, kw); a channels_last weight is laid out (kh, kw, in), so
    its matrix is that permutation, with v permuted alike (a small vector instead of W)."""
    out, cin, kh, kw = w.shape
    if w.is_contiguous() or not w.is_contiguous(memory_format=torch.channels_last):
        return w.reshape(out, -1), (lambda v: v), (lambda v: v)
    mat = w.permute(0, 2, 3, 1).reshape(out, -1)  # a view
    return (mat, lambda v: v.view(cin, kh, kw).permute(1, 2, 0).reshape(-1),
            lambda v: v.view(kh, kw, cin).permute(2, 0, 1).reshape(-1))
