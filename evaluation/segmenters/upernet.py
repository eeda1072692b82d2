"""UperNet with a ResNet-101 encoder (CSAIL semantic-segmentation-pytorch): SPADE's ADE20K segmenter.

The published model is two files, encoder_epoch_50.pth and decoder_epoch_50.pth; the encoder and
decoder here have their module names so each loads unchanged. CSAIL trained with a synchronised
batch norm whose files may also hold `_tmp_running_mean`, `_tmp_running_var` and `_running_iter`
per layer (depending on the release); inference never uses them, so the layers here are plain
BatchNorm2d and those entries are ignored when present (CSAIL itself loads with strict=False).

Encoder: a "deep stem" ResNet-101 (three 3×3 convolutions, 64-64-128, instead of one 7×7) that
returns the outputs of its four stages (strides 4, 8, 16, 32).
Decoder: pyramid pooling on the last stage, a top-down FPN over the other three, all four levels
upsampled to stride 4, concatenated and classified into 150 ADE20K classes.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout, kernel=3, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride=1):
        super().__init__()
        cout = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


def _stage(cin, planes, blocks, stride):
    return nn.Sequential(Bottleneck(cin, planes, stride),
                         *[Bottleneck(planes * 4, planes) for _ in range(blocks - 1)])


class ResNet101Encoder(nn.Module):
    """N×3×H×W ImageNet-normalised RGB -> the four stage outputs (256, 512, 1024, 2048 channels)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(128)
        self.layer1 = _stage(128, 64, 3, 1)
        self.layer2 = _stage(256, 128, 4, 2)
        self.layer3 = _stage(512, 256, 23, 2)
        self.layer4 = _stage(1024, 512, 3, 2)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.max_pool2d(x, 3, stride=2, padding=1)
        feats = []
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            feats.append(x)
        return feats


def _resize(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


class UperNetDecoder(nn.Module):
    """Stage outputs -> N×num_classes logits at stride 4 (fpn_dim 512, pool scales 1, 2, 3, 6)."""

    def __init__(self, num_classes=150, fc_dim=2048, fpn_inplanes=(256, 512, 1024), fpn_dim=512,
                 pool_scales=(1, 2, 3, 6)):
        super().__init__()
        self.pool_scales = pool_scales
        self.ppm_conv = nn.ModuleList(conv_bn_relu(fc_dim, 512, kernel=1) for _ in pool_scales)
        self.ppm_last_conv = conv_bn_relu(fc_dim + len(pool_scales) * 512, fpn_dim)
        self.fpn_in = nn.ModuleList(conv_bn_relu(c, fpn_dim, kernel=1) for c in fpn_inplanes)
        # The extra Sequential level reproduces CSAIL's names (fpn_out.i.0.0.weight).
        self.fpn_out = nn.ModuleList(nn.Sequential(conv_bn_relu(fpn_dim, fpn_dim)) for _ in fpn_inplanes)
        self.conv_last = nn.Sequential(conv_bn_relu((len(fpn_inplanes) + 1) * fpn_dim, fpn_dim),
                                       nn.Conv2d(fpn_dim, num_classes, 1))

    def forward(self, feats):
        top = feats[-1]
        size = top.shape[2:]
        # CSAIL upsamples each pooled map first and convolves afterwards; the order matters.
        pyramid = [top] + [conv(_resize(F.adaptive_avg_pool2d(top, s), size))
                           for s, conv in zip(self.pool_scales, self.ppm_conv)]
        f = self.ppm_last_conv(torch.cat(pyramid, 1))
        levels = [f]
        for i in reversed(range(len(feats) - 1)):
            lateral = self.fpn_in[i](feats[i])
            f = lateral + _resize(f, lateral.shape[2:])
            levels.append(self.fpn_out[i](f))
        levels.reverse()
        out_size = levels[0].shape[2:]
        fused = torch.cat([levels[0]] + [_resize(level, out_size) for level in levels[1:]], 1)
        return self.conv_last(fused)


class UperNet(nn.Module):
    """Encoder + decoder; logits come back at the input size."""

    def __init__(self, num_classes=150):
        super().__init__()
        self.encoder = ResNet101Encoder()
        self.decoder = UperNetDecoder(num_classes)

    def forward(self, x):
        return _resize(self.decoder(self.encoder(x)), x.shape[2:])
