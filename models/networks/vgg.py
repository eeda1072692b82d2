"""VGG19 feature extractor for the perceptual loss, with torchvision's parameter names.

`features.N.weight` matches torchvision's vgg19-dcbb9e9d.pth, so that file loads unchanged
(its classifier.* entries are ignored: the loss needs only the convolutional part).
"""
import torch.nn as nn

from util.weights import check_state_dict, load_published_weights

VGG19_FILE = 'vgg19-dcbb9e9d.pth'
VGG19_URL = f'https://download.pytorch.org/models/{VGG19_FILE}'
_CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M']
_SLICES = (2, 7, 12, 21, 30)  # ends of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1


def _features():
    layers, cin = [], 3
    for v in _CFG:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(*layers)


class VGG19(nn.Module):
    """Returns relu1_1 … relu5_1 of an image in [-1, 1].

    The image goes in as it is, without ImageNet's mean/std: SPADE feeds VGG19 the generator's raw
    [-1, 1] output, and its --lambda_vgg 10 was tuned for the feature sizes that gives.
    """

    def __init__(self):
        super().__init__()
        self.features = _features()
        self.requires_grad_(False)

    def forward(self, x):
        h = x
        outs, start = [], 0
        for end in _SLICES:
            h = self.features[start:end](h)
            outs.append(h)
            start = end
        return outs


def load_vgg19(path=''):
    """VGG19 with the published ImageNet weights (see util.weights for where they are looked for)."""
    vgg = VGG19()
    state = load_published_weights(
        path, VGG19_FILE, VGG19_URL, 'the VGG19 perceptual loss', '--vgg_weights',
        'or train without it: --no_vgg_loss')
    check_state_dict(vgg, {k: v for k, v in state.items() if k.startswith('features.')},
                     path or VGG19_FILE)
    return vgg.eval()
