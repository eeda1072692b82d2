"""Tensors -> pictures: images, LBP maps and colourised label maps as uint8 H×W×3 arrays."""
import numpy as np
import torch
from PIL import Image

from data.palettes import colormap, label_colors  # noqa: F401 (colormap: its old home)


def tensor2im(image):
    """3×H×W in [-1, 1] -> H×W×3 uint8; 1×H×W (an LBP map) -> H×W uint8, i.e. its codes 0..255."""
    arr = ((image.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().cpu().numpy()
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def tensor2label(label, n):
    """1×H×W class ids (0..n-1, n for don't care) -> H×W×3 uint8 colours; don't care is black."""
    ids = label.detach().cpu().long().numpy()[0]
    return label_colors(n)[np.clip(ids, 0, n)]  # id 0 not black; the table lives in data/palettes.py


def save_png(array, path):
    Image.fromarray(array).save(path)


def visuals(data, generated, label_nc):
    """The pictures shown for one sample: label, synthesized image and LBP, real image and its LBP
    (generated['real_lbp'], computed by the model with its LBP operator)."""
    out = {'input_label': tensor2label(data['label'][0], label_nc),
           'synthesized_image': tensor2im(generated['synthesized_image'][0])}
    if generated.get('synthesized_lbp') is not None:
        out['synthesized_lbp'] = tensor2im(generated['synthesized_lbp'][0])
    if 'image' in data and torch.is_tensor(data['image']):
        out['real_image'] = tensor2im(data['image'][0])
    if generated.get('real_lbp') is not None:
        out['real_lbp'] = tensor2im(generated['real_lbp'][0])
    return out
