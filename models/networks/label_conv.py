"""Convolutions over the one-hot label map, computed from the label ids: most of its values are zeros.

A k×k conv over cat([one_hot(ids, C), edge], 1) multiplies mostly zeros: at each output pixel
it adds, for each of the k² kernel offsets, the weight column of the class found there (plus
the edge column where the edge map is 1; zero padding adds nothing). `LabelConv2d` computes
exactly that sum as one `embedding_bag` over a table made from the weight:

    table[i, z] = W[:, z, dy, dx]                          z < C      (class z)
    table[i, C + z] = W[:, z, dy, dx] + W[:, C, dy, dx]    z < C      (class z on an edge)
    table[i, Z] = 0                                        (zero padding), Z = 2C with edges else C

(i = dy·k + dx; the bias is added to the rows of offset 0, which every output pixel uses once.)
The weight gradient is the transposed lookup: input pixels sorted by code, and for each offset
the grad rows of the output pixels that read them, summed per code with `embedding_bag` too.
The index tensors depend only on the label map and (kernel, stride, padding), so they are cached
on the Semantics object (semantics.py) and shared by all layers reading it alike.
Parameters and state_dict are nn.Conv2d's, so checkpoints do not change.

    sem = Semantics.from_label(data['label'], num_classes, edge)   # ids, not the one-hot (semantics.py)
    conv = LabelConv2d(sem.channels + 3, 64, 4, stride=2, padding=2)
    y = conv(sem, images)     # = conv2d(cat([sem.one_hot(), images], 1)); images may hold k·N
                              #   samples (fakes and reals): the label part is computed once
"""
import functools

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


def _out_size(size, kernel, stride, padding):
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))


@functools.lru_cache(maxsize=32)
def _reader_map(n, h, w, kernel, stride, padding, device):
    """(kh·kw)×(N·H·W): the output pixel that reads input pixel q through offset i, else -1."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    ho, wo = _out_size((h, w), kernel, stride, padding)
    rows = torch.arange(n * ho * wo, device=device).view(n, ho, wo)
    out = torch.full((kh, kw, n, h, w), -1, dtype=torch.long, device=device)
    for dy in range(kh):
        ys = torch.arange(ho, device=device) * sh - ph + dy
        vy = (ys >= 0) & (ys < h)
        for dx in range(kw):
            xs = torch.arange(wo, device=device) * sw - pw + dx
            vx = (xs >= 0) & (xs < w)
            out[dy, dx][:, ys[vy, None], xs[vx]] = rows[:, vy][:, :, vx]
    return out.view(kh * kw, -1)


def _transposed(x, nhwc):
    """The values of x (N×C×H×W) with NHWC-contiguous (channels_last) strides if nhwc, else
    NCHW-contiguous; per sample as 2-D blocked transposes (about 2× faster than a 4-D copy)."""
    if x.is_contiguous(memory_format=torch.channels_last if nhwc else torch.contiguous_format):
        return x
    n, c, h, w = x.shape
    src = x.reshape(n, c, h * w) if nhwc else x.permute(0, 2, 3, 1).reshape(n, h * w, c)
    out = torch.empty_like(x, memory_format=torch.channels_last if nhwc else torch.contiguous_format)
    dst = out.permute(0, 2, 3, 1).view(n, h * w, c) if nhwc else out.view(n, c, h * w)
    for o, i in zip(dst, src):
        o.copy_(i.t())
    return out


class _Plan:
    """Index tensors of one label map read with one (kernel, stride, padding).

    index: (N·Ho·Wo)×(kh·kw) rows of the (kh·kw)×(Z+1) table, offset by offset (row Z of an
    offset is the zero padding). grad_index(): the same pairs grouped by table row, for the
    weight gradient: embedding_bag(rows, grad, offsets) gives one sum per table row.
    """

    def __init__(self, codes, num_codes, kernel, stride, padding):
        (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
        self.codes, self.num_codes, self.kernel, self.stride, self.padding = codes, num_codes, kernel, stride, padding
        n, h, w = codes.shape
        self.out_shape = (n, *_out_size((h, w), kernel, stride, padding))
        win = F.pad(codes, (pw, pw, ph, ph), value=num_codes).unfold(1, kh, sh).unfold(2, kw, sw)
        offsets = torch.arange(0, kh * kw * (num_codes + 1), num_codes + 1, device=codes.device)
        self.index = (win + offsets.view(kh, kw)).reshape(-1, kh * kw)
        self._grad_index = None

    def grad_index(self):
        if self._grad_index is None:
            # for each offset, the input pixels sorted by code and the output pixels reading them
            flat = self.codes.reshape(-1)
            order = torch.argsort(flat)
            counts = torch.bincount(flat, minlength=self.num_codes)
            reader = _reader_map(*self.codes.shape, self.kernel, self.stride, self.padding, flat.device)[:, order]
            kk = reader.shape[0]
            starts = (torch.cumsum(counts, 0) - counts) + flat.numel() * torch.arange(kk, device=flat.device)[:, None]
            valid = (reader >= 0).view(-1)  # drop the (offset, pixel) pairs that no output reads
            before = F.pad(torch.cumsum(valid, 0), (1, 0))  # valid pairs before each position
            self._grad_index = reader.view(-1)[valid], before[starts.view(-1)]
        return self._grad_index


class _LabelLookup(torch.autograd.Function):
    """(weight, bias, plan) -> N×out×Ho×Wo: the conv of the label channels, by table lookup."""

    @staticmethod
    def forward(ctx, weight, bias, plan, c, dtype, channels_last):
        out_ch, _, kh, kw = weight.shape
        z = plan.num_codes
        wk = weight.detach().permute(2, 3, 1, 0).flatten(0, 1)  # offset × in × out (a view)
        table = wk.new_empty(kh * kw, z + 1, out_ch)
        table[:, :c] = wk[:, :c]
        if z == 2 * c:  # rows of (class, on an edge)
            torch.add(wk[:, :c], wk[:, c:c + 1], out=table[:, c:2 * c])
        table[:, z] = 0
        if bias is not None:
            table[0] += bias.detach()
        table = table.to(dtype)  # the autocast dtype: rounded once, as the conv rounds its weight
        out = F.embedding_bag(plan.index, table.view(-1, out_ch), mode='sum')
        ctx.plan, ctx.conf = plan, (c, weight.shape, weight.dtype, bias is not None)
        out = out.view(*plan.out_shape, out_ch).permute(0, 3, 1, 2)
        return out if channels_last else _transposed(out, nhwc=False)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        plan, (c, wshape, wdtype, has_bias) = ctx.plan, ctx.conf
        out_ch, cin, kh, kw = wshape
        z = plan.num_codes
        g = _transposed(grad, nhwc=True).permute(0, 2, 3, 1).view(-1, out_ch)  # a row per output pixel
        grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            rows, offsets = plan.grad_index()
            table_grad = F.embedding_bag(rows, g, offsets, mode='sum').view(kh * kw, z, out_ch).to(wdtype)
            labels = c + (z == 2 * c)
            # the label channels' gradient; that of any dense channels after them comes from the dense conv
            grad_w = g.new_empty(wshape, dtype=wdtype) if labels == cin else g.new_zeros(wshape, dtype=wdtype)
            gk = grad_w.permute(2, 3, 1, 0).flatten(0, 1)  # offset × in × out (a view)
            if z == 2 * c:
                torch.add(table_grad[:, :c], table_grad[:, c:], out=gk[:, :c])
                torch.sum(table_grad[:, c:], 1, out=gk[:, c])
            else:
                gk[:, :c] = table_grad
        if has_bias and ctx.needs_input_grad[1]:
            grad_b = g.sum(0).to(wdtype)
        return grad_w, grad_b, None, None, None, None


class LabelConv2d(nn.Conv2d):
    """nn.Conv2d (same parameters and state_dict) over cat([semantics.one_hot(), dense], 1).

    forward(semantics, dense=None): semantics is a `Semantics` (N samples), or a `DenseSemantics`
    (the same label channels, e.g. average-pooled, no longer one-hot); dense, if given, holds
    the in_channels - semantics.channels channels that follow the label ones, for k·N samples
    (k ≥ 1: e.g. fakes and reals, sample j·N + i paired with semantics i). The label part is
    computed once for the N samples and added to each of the k dense parts.
    The weight is read once per call through self.weight, so parametrizations (spectral norm)
    apply. Under autocast the lookup table is in the autocast dtype and so is the output.
    """
    # Below this many output pixels (N·Ho·Wo) building the table costs more than the dense
    # conv saves: the label part is then the conv of the one-hot map.
    min_pixels = 512

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if (self.groups != 1 or self.dilation != (1, 1) or self.padding_mode != 'zeros'
                or isinstance(self.padding, str)):
            raise ValueError("LabelConv2d: only groups=1, dilation=1, numeric zero padding")

    def forward(self, semantics, dense=None):
        label_channels = semantics.shape[1]
        if label_channels + (0 if dense is None else dense.shape[1]) != self.in_channels:
            raise ValueError(f"{label_channels} label + {0 if dense is None else dense.shape[1]} dense "
                             f"channels for a conv of {self.in_channels} inputs")
        weight = self.weight  # once: a parametrization may run on each read
        if dense is None:  # the conv's output layout: channels_last if its weight is
            cl = weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
            return self.label_part(semantics, weight, channels_last=cl)
        return self.combine(self.label_part(semantics, weight), self.dense_part(dense, weight))

    def label_part(self, semantics, weight=None, channels_last=True):
        """conv2d(semantics.dense_map(), weight[:, :semantics.channels]) + bias, N×out×Ho×Wo, with
        channels_last strides (the lookup's natural layout) or else contiguous."""
        weight = self.weight if weight is None else weight
        n, _, h, w = semantics.shape
        ho, wo = _out_size((h, w), self.kernel_size, self.stride, self.padding)
        if semantics.dense or n * ho * wo < self.min_pixels:  # no ids to look up, or too few pixels to pay
            return F.conv2d(semantics.dense_map(weight.dtype), weight[:, :semantics.channels], self.bias,
                            self.stride, self.padding)
        device = semantics.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else weight.dtype
        key = (tuple(self.kernel_size), tuple(self.stride), tuple(self.padding))
        plan = semantics.cached(('lookup plan', key), lambda: _Plan(semantics.codes(), semantics.num_codes, *key))
        return _LabelLookup.apply(weight, self.bias, plan, semantics.num_classes, dtype, channels_last)

    def dense_part(self, dense, weight=None):
        """conv2d(dense, the weight of the last dense.shape[1] input channels), no bias."""
        weight = self.weight if weight is None else weight
        return F.conv2d(dense, weight[:, self.in_channels - dense.shape[1]:], None, self.stride, self.padding)

    @staticmethod
    def combine(label, dense):
        """dense (k·N samples) + label (N samples) for each of the k groups; adds into dense."""
        n = label.shape[0]
        dense.unflatten(0, (dense.shape[0] // n, n)).add_(label)
        return dense


def set_label_convs(net, mode):
    """mode 'dense': every LabelConv2d in net convolves the one-hot map (as nn.Conv2d would);
    'lookup': the lookups above (below min_pixels the conv). Parameters and outputs are the same
    either way (up to float rounding); only the speed differs, and it was measured on the CPU only."""
    if mode not in ('lookup', 'dense'):
        raise ValueError(f"label convs: 'lookup' or 'dense', not {mode!r}")
    for m in net.modules():
        if isinstance(m, LabelConv2d):
            if mode == 'dense':
                m.min_pixels = float('inf')
            else:
                m.__dict__.pop('min_pixels', None)  # back to the class's threshold
    return net
