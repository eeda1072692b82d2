"""DeepLab v2 (ResNet-101, ASPP) with multi-scale inputs, as in kazuto1011/deeplab-pytorch.

SPADE's COCO-Stuff segmenter; module names follow that repository (MSC wrapper `base`, stem
`layer1`, residual stages `layer2`..`layer5` of `block1`..`blockN`, each a reduce / conv3x3 /
increase [/ shortcut] triple of conv+bn), so its cocostuff164k checkpoint loads unchanged.
Caffe-style ResNet: the stride sits on the first 1×1 convolution; stages 4 and 5 use dilation
2 and 4 instead of striding, so logits come out at stride 8.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

ATROUS_RATES = (6, 12, 18, 24)
MSC_SCALES = (0.5, 0.75)


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, kernel, stride=1, dilation=1, relu=True):
        super().__init__()
        self.add_module('conv', nn.Conv2d(cin, cout, kernel, stride=stride, padding=dilation * (kernel // 2),
                                          dilation=dilation, bias=False))
        self.add_module('bn', nn.BatchNorm2d(cout, eps=1e-5))
        if relu:
            self.add_module('relu', nn.ReLU())


class Bottleneck(nn.Module):
    def __init__(self, cin, cout, stride, dilation, project):
        super().__init__()
        mid = cout // 4
        self.reduce = ConvBN(cin, mid, 1, stride=stride)
        self.conv3x3 = ConvBN(mid, mid, 3, dilation=dilation)
        self.increase = ConvBN(mid, cout, 1, relu=False)
        self.shortcut = ConvBN(cin, cout, 1, stride=stride, relu=False) if project else None

    def forward(self, x):
        h = self.increase(self.conv3x3(self.reduce(x)))
        return F.relu(h + (x if self.shortcut is None else self.shortcut(x)))


class ResStage(nn.Sequential):
    def __init__(self, blocks, cin, cout, stride, dilation):
        super().__init__()
        for i in range(blocks):
            self.add_module(f'block{i + 1}', Bottleneck(cin if i == 0 else cout, cout,
                                                        stride if i == 0 else 1, dilation, i == 0))


class ASPP(nn.Module):
    """Sum of four dilated 3×3 classifiers (rates 6, 12, 18, 24)."""

    def __init__(self, cin, num_classes, rates=ATROUS_RATES):
        super().__init__()
        for i, rate in enumerate(rates):
            self.add_module(f'c{i}', nn.Conv2d(cin, num_classes, 3, padding=rate, dilation=rate))

    def forward(self, x):
        return sum(conv(x) for conv in self.children())


class DeepLabV2Base(nn.Sequential):
    def __init__(self, num_classes):
        super().__init__()
        self.add_module('layer1', nn.Sequential())
        self.layer1.add_module('conv1', ConvBN(3, 64, 7, stride=2))
        self.layer1.add_module('pool', nn.MaxPool2d(3, 2, 1, ceil_mode=True))
        self.add_module('layer2', ResStage(3, 64, 256, 1, 1))
        self.add_module('layer3', ResStage(4, 256, 512, 2, 1))
        self.add_module('layer4', ResStage(23, 512, 1024, 1, 2))
        self.add_module('layer5', ResStage(3, 1024, 2048, 1, 4))
        self.add_module('aspp', ASPP(2048, num_classes))


class DeepLabV2MSC(nn.Module):
    """Runs the base at scales 1, 0.5, 0.75 and keeps the pixel-wise maximum of the logits
    (the MSC inference of the published model); logits are returned at the input size."""

    def __init__(self, num_classes=182, scales=MSC_SCALES):
        super().__init__()
        self.base = DeepLabV2Base(num_classes)
        self.scales = scales

    def forward(self, x):
        logits = self.base(x)
        size = logits.shape[2:]
        outs = [logits]
        for s in self.scales:
            small = F.interpolate(x, scale_factor=s, mode='bilinear', align_corners=False)
            outs.append(F.interpolate(self.base(small), size=size, mode='bilinear', align_corners=False))
        best = torch.stack(outs).max(0)[0]
        return F.interpolate(best, size=x.shape[2:], mode='bilinear', align_corners=False)
