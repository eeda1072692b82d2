"""Class names and colours: each dataset class says its own (data/<mode>_dataset.py's CLASSES, COLORS,
PALETTE_TITLE, palette_entries); this module makes them into palettes, and draws what has none.

A `Palette` lists (model id, name, colour) in the ids the model sees (data/base_dataset.py's module
docstring: e.g. ADE20K's raw 1..150 are ids 0..149, COCO-Stuff's raw 255 is id 182), so a colour label
map turns into the model's ids with `Palette.lookup` and nothing else. A dataset with a don't-care id
draws it black. `labels` is test.py's own colours for any label count (`label_colors`), drawn where the
dataset has no palette of one colour per id (`drawing_colors`): so its pictures read back as ids.

`python -m data.check_labels` and generate.py match colour label maps against these; serve.py lists
`classes_for(opt)` on its page; test.py and the training snapshots draw label maps in `drawing_colors(opt)`.
"""
from types import SimpleNamespace

import numpy as np

import data

DONTCARE_NAME = "don't care"
BLACK = (0, 0, 0)


def colormap(n):
    """n distinct colours: the bits of the class id spread over R, G and B (PASCAL VOC's scheme)."""
    ids = np.arange(n)
    cmap = np.zeros((n, 3), np.uint8)
    for shift in range(8):
        for channel in range(3):
            bit = (ids >> (3 * shift + channel)) & 1
            cmap[:, channel] |= (bit << (7 - shift)).astype(np.uint8)
    return cmap


def label_colors(n):
    """(n+1)×3 uint8: the colour of ids 0..n-1 as test.py draws label maps (id 0 not black), n (don't care) black."""
    return np.concatenate([colormap(n + 1)[1:], np.zeros((1, 3), np.uint8)])


class Palette:
    """(model id, name, colour) of the classes of one colour convention."""

    def __init__(self, key, title, entries):
        self.key, self.title = key, title
        self.entries = [(int(i), str(name), tuple(int(c) for c in colour)) for i, name, colour in entries]
        self.by_colour = {}
        for i, _, colour in self.entries:
            self.by_colour.setdefault(pack(colour), i)  # a shared colour reads back as its first id

    def __len__(self):
        return len(self.entries)

    def lookup(self, rgb):
        """H×W×3 uint8 -> (H×W int64 ids, -1 where the colour is not in the palette)."""
        codes, inverse = np.unique(pack_array(rgb), return_inverse=True)
        ids = np.array([self.by_colour.get(int(c), -1) for c in codes], np.int64)
        return ids[inverse].reshape(rgb.shape[:2])

    def name_of(self, colour):
        i = self.by_colour.get(pack(colour))
        return None if i is None else next(name for j, name, _ in self.entries if j == i)


def pack(colour):
    r, g, b = colour
    return (int(r) << 16) | (int(g) << 8) | int(b)


def pack_array(rgb):
    rgb = np.asarray(rgb)
    return (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2].astype(np.int64)


def unpack(code):
    return (code >> 16) & 255, (code >> 8) & 255, code & 255


def dataset_palette(cls, opt):
    """The palette of a dataset class for opt's label_nc / contain_dontcare_label, or None without colours."""
    if cls.COLORS is None:
        return None
    dontcare = opt.contain_dontcare_label and cls.CONTAIN_DONTCARE_LABEL
    return Palette(data.mode_of(cls), cls.PALETTE_TITLE, cls.palette_entries(opt.label_nc)
                   + ([(opt.label_nc, DONTCARE_NAME, BLACK)] if dontcare else []))


def labels(opt):
    colours = label_colors(opt.label_nc)
    dontcare = [(opt.label_nc, DONTCARE_NAME, colours[opt.label_nc])] if opt.contain_dontcare_label else []
    return Palette('labels', "test.py's label colours",
                   [(i, f'class {i}', colours[i]) for i in range(opt.label_nc)] + dontcare)


def dataset_classes():
    return [data.dataset_class(mode) for mode in data.modes()]


def official(opt):
    """The palette of the model's dataset mode, else of the dataset its label count names (KNOWN_BY_LABEL_COUNT)."""
    mode = getattr(opt, 'dataset_mode', None)
    cls = data.dataset_class(mode) if mode else None
    if cls is None or cls.COLORS is None:
        cls = next((c for c in dataset_classes() if c.KNOWN_BY_LABEL_COUNT and c.LABEL_NC == opt.label_nc), None)
    return None if cls is None else dataset_palette(cls, opt)


def bases(cls):
    """The dataset classes cls derives from that have colours: a derived dataset (the demo, from Cityscapes)
    holds its base's ids, so its colour pictures may be in the base's colours."""
    classes = dataset_classes()
    return [c for c in cls.__mro__[1:] if c in classes and c.COLORS is not None]


def palettes_for(opt):
    """The palettes a colour label map of this model may use, the most likely first."""
    found = [official(opt)]
    mode = getattr(opt, 'dataset_mode', None)
    found += [dataset_palette(base, opt) for base in bases(data.dataset_class(mode))] if mode else []
    found.append(labels(opt))
    return [p for p in found if p is not None and len(p)]


def drawing_colors(opt):
    """(label_nc+1)×3 uint8, the colour of each id and (last, black) of don't care: the dataset's official
    colours where they give every id one of its own (CamVid, COCO-Stuff), so a drawing reads back as its
    ids and looks as the dataset's own pictures do; else test.py's `label_colors`."""
    table = label_colors(opt.label_nc)
    palette = official(opt)
    if palette is None or len(palette.by_colour) < len(palette) or \
            {i for i, _, _ in palette.entries} < set(range(opt.label_nc)):
        return table
    for i, _, colour in palette.entries:
        table[i] = colour
    return table


def classes_for(opt):
    """[(id, name, colour)] to paint with: the official palette's classes, else test.py's colours."""
    return (official(opt) or labels(opt)).entries


def known_palettes():
    """The palette of every dataset with colours of its own, at its own label settings, the fewest classes first:
    the most specific palette that holds a file's colours names them (all of SegNet's CamVid colours but
    pavement's are in COCO-Stuff's table too)."""
    own = [cls for cls in dataset_classes() if cls.COLORS is not None and not bases(cls)]
    found = [dataset_palette(cls, SimpleNamespace(label_nc=cls.LABEL_NC, contain_dontcare_label=cls.CONTAIN_DONTCARE_LABEL))
             for cls in own]
    return sorted(found, key=len)
