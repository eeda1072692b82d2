"""Tensors -> pictures: images, LBP maps and colourised label maps as uint8 H×W×3 arrays.

Label colours are the caller's (data/palettes.py's `label_colors`): util/ knows no dataset."""
import numpy as np
import torch
from PIL import Image


def tensor2im(image):
    """3×H×W in [-1, 1] -> H×W×3 uint8; 1×H×W (an LBP map) -> H×W uint8, i.e. its codes 0..255."""
    arr = ((image.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().cpu().numpy()
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def tensor2label(label, colors):
    """1×H×W class ids -> H×W×3 uint8 colours from `colors`, an (n+1)×3 table of ids 0..n (n: don't care)."""
    ids = label.detach().cpu().long().numpy()[0]
    return colors[np.clip(ids, 0, len(colors) - 1)]


def save_png(array, path):
    Image.fromarray(array).save(path)


def visuals(data, generated, label_colors):
    """The pictures shown for one sample: label (in `label_colors`, see tensor2label), synthesized image
    and LBP, real image and its LBP (generated['real_lbp'], computed by the model with its LBP operator)."""
    out = {'input_label': tensor2label(data['label'][0], label_colors),
           'synthesized_image': tensor2im(generated['synthesized_image'][0])}
    if generated.get('synthesized_lbp') is not None:
        out['synthesized_lbp'] = tensor2im(generated['synthesized_lbp'][0])
    if 'image' in data and torch.is_tensor(data['image']):
        out['real_image'] = tensor2im(data['image'][0])
    if generated.get('real_lbp') is not None:
        out['real_lbp'] = tensor2im(generated['real_lbp'][0])
    return out
