"""Class names and colours of every dataset: the one place for label colours.

A `Palette` lists (model id, name, colour) in the ids the model sees (data/base_dataset.py's
module docstring: ADE20K's raw 1..150 are ids 0..149, COCO-Stuff's raw 255 is id 182), so a
colour label map turns into the model's ids with `Palette.lookup` and nothing else.

  cityscapes  Cityscapes' official colours (cityscapesScripts helpers/labels.py) for labelIds 0..33,
              and 34 = license plate, as SPADE's 35-entry table. Several ids share a colour
              (0-4 black, 17/18 grey, 26/34 dark blue): a colour reads back as the first of them.
  ade20k      the ADE20K scene-parsing benchmark's 150 colours (CSAIL's color150, as mmsegmentation
              lists them) and short names; black = raw 0 = unlabelled (the don't-care id 150).
              road and skyscraper share (140, 140, 140), which reads back as road.
  coco        COCO-Stuff's 182 names (cocostuff labels.txt) with SPADE's colours for COCO-Stuff:
              the bit-spread table of `colormap` at id + 1, and its own colours for sea, sky-other,
              tree, clouds and grass. (COCO-Stuff itself publishes colours only for stuff classes,
              things all black.) Black = raw 255 = unlabelled (the don't-care id 182).
  camvid      CamVid's 11 classes as the SegNet tutorial colours them (its test_segmentation_camvid.py);
              black = void (the don't-care id 11).
  demo        the demo's 10 classes (data/demo_scenes.py) in Cityscapes ids and colours.
  labels      test.py's own colours for any label count (`label_colors`), drawn where the dataset has no
              palette of one colour per id (`drawing_colors`): so its pictures read back as ids.

`python -m data.check_labels` and generate.py match colour label maps against these; serve.py lists
`classes_for(opt)` on its page; test.py and the training snapshots draw label maps in `drawing_colors(opt)`.
"""
import numpy as np

from data import camvid_dataset, demo_scenes

# (name, colour) per Cityscapes labelId 0..34.
CITYSCAPES = (
    ('unlabeled', (0, 0, 0)), ('ego vehicle', (0, 0, 0)), ('rectification border', (0, 0, 0)),
    ('out of roi', (0, 0, 0)), ('static', (0, 0, 0)), ('dynamic', (111, 74, 0)), ('ground', (81, 0, 81)),
    ('road', (128, 64, 128)), ('sidewalk', (244, 35, 232)), ('parking', (250, 170, 160)),
    ('rail track', (230, 150, 140)), ('building', (70, 70, 70)), ('wall', (102, 102, 156)),
    ('fence', (190, 153, 153)), ('guard rail', (180, 165, 180)), ('bridge', (150, 100, 100)),
    ('tunnel', (150, 120, 90)), ('pole', (153, 153, 153)), ('polegroup', (153, 153, 153)),
    ('traffic light', (250, 170, 30)), ('traffic sign', (220, 220, 0)), ('vegetation', (107, 142, 35)),
    ('terrain', (152, 251, 152)), ('sky', (70, 130, 180)), ('person', (220, 20, 60)), ('rider', (255, 0, 0)),
    ('car', (0, 0, 142)), ('truck', (0, 0, 70)), ('bus', (0, 60, 100)), ('caravan', (0, 0, 90)),
    ('trailer', (0, 0, 110)), ('train', (0, 80, 100)), ('motorcycle', (0, 0, 230)), ('bicycle', (119, 11, 32)),
    ('license plate', (0, 0, 142)),
)

ADE20K_NAMES = (
    'wall', 'building', 'sky', 'floor', 'tree', 'ceiling', 'road', 'bed', 'windowpane', 'grass',
    'cabinet', 'sidewalk', 'person', 'earth', 'door', 'table', 'mountain', 'plant', 'curtain', 'chair',
    'car', 'water', 'painting', 'sofa', 'shelf', 'house', 'sea', 'mirror', 'rug', 'field',
    'armchair', 'seat', 'fence', 'desk', 'rock', 'wardrobe', 'lamp', 'bathtub', 'railing', 'cushion',
    'base', 'box', 'column', 'signboard', 'chest of drawers', 'counter', 'sand', 'sink', 'skyscraper',
    'fireplace', 'refrigerator', 'grandstand', 'path', 'stairs', 'runway', 'case', 'pool table', 'pillow',
    'screen door', 'stairway', 'river', 'bridge', 'bookcase', 'blind', 'coffee table', 'toilet', 'flower',
    'book', 'hill', 'bench', 'countertop', 'stove', 'palm', 'kitchen island', 'computer', 'swivel chair',
    'boat', 'bar', 'arcade machine', 'hovel', 'bus', 'towel', 'light', 'truck', 'tower', 'chandelier',
    'awning', 'streetlight', 'booth', 'television receiver', 'airplane', 'dirt track', 'apparel', 'pole',
    'land', 'bannister', 'escalator', 'ottoman', 'bottle', 'buffet', 'poster', 'stage', 'van', 'ship',
    'fountain', 'conveyer belt', 'canopy', 'washer', 'plaything', 'swimming pool', 'stool', 'barrel',
    'basket', 'waterfall', 'tent', 'bag', 'minibike', 'cradle', 'oven', 'ball', 'food', 'step', 'tank',
    'trade name', 'microwave', 'pot', 'animal', 'bicycle', 'lake', 'dishwasher', 'screen', 'blanket',
    'sculpture', 'hood', 'sconce', 'vase', 'traffic light', 'tray', 'ashcan', 'fan', 'pier', 'crt screen',
    'plate', 'monitor', 'bulletin board', 'shower', 'radiator', 'glass', 'clock', 'flag',
)
ADE20K_COLORS = (
    (120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3), (120, 120, 80), (140, 140, 140),
    (204, 5, 255), (230, 230, 230), (4, 250, 7), (224, 5, 255), (235, 255, 7), (150, 5, 61), (120, 120, 70),
    (8, 255, 51), (255, 6, 82), (143, 255, 140), (204, 255, 4), (255, 51, 7), (204, 70, 3), (0, 102, 200),
    (61, 230, 250), (255, 6, 51), (11, 102, 255), (255, 7, 71), (255, 9, 224), (9, 7, 230), (220, 220, 220),
    (255, 9, 92), (112, 9, 255), (8, 255, 214), (7, 255, 224), (255, 184, 6), (10, 255, 71), (255, 41, 10),
    (7, 255, 255), (224, 255, 8), (102, 8, 255), (255, 61, 6), (255, 194, 7), (255, 122, 8), (0, 255, 20),
    (255, 8, 41), (255, 5, 153), (6, 51, 255), (235, 12, 255), (160, 150, 20), (0, 163, 255), (140, 140, 140),
    (250, 10, 15), (20, 255, 0), (31, 255, 0), (255, 31, 0), (255, 224, 0), (153, 255, 0), (0, 0, 255),
    (255, 71, 0), (0, 235, 255), (0, 173, 255), (31, 0, 255), (11, 200, 200), (255, 82, 0), (0, 255, 245),
    (0, 61, 255), (0, 255, 112), (0, 255, 133), (255, 0, 0), (255, 163, 0), (255, 102, 0), (194, 255, 0),
    (0, 143, 255), (51, 255, 0), (0, 82, 255), (0, 255, 41), (0, 255, 173), (10, 0, 255), (173, 255, 0),
    (0, 255, 153), (255, 92, 0), (255, 0, 255), (255, 0, 245), (255, 0, 102), (255, 173, 0), (255, 0, 20),
    (255, 184, 184), (0, 31, 255), (0, 255, 61), (0, 71, 255), (255, 0, 204), (0, 255, 194), (0, 255, 82),
    (0, 10, 255), (0, 112, 255), (51, 0, 255), (0, 194, 255), (0, 122, 255), (0, 255, 163), (255, 153, 0),
    (0, 255, 10), (255, 112, 0), (143, 255, 0), (82, 0, 255), (163, 255, 0), (255, 235, 0), (8, 184, 170),
    (133, 0, 255), (0, 255, 92), (184, 0, 255), (255, 0, 31), (0, 184, 255), (0, 214, 255), (255, 0, 112),
    (92, 255, 0), (0, 224, 255), (112, 224, 255), (70, 184, 160), (163, 0, 255), (153, 0, 255), (71, 255, 0),
    (255, 0, 163), (255, 204, 0), (255, 0, 143), (0, 255, 235), (133, 255, 0), (255, 0, 235), (245, 0, 255),
    (255, 0, 122), (255, 245, 0), (10, 190, 212), (214, 255, 0), (0, 204, 255), (20, 0, 255), (255, 255, 0),
    (0, 153, 255), (0, 41, 255), (0, 255, 204), (41, 0, 255), (41, 255, 0), (173, 0, 255), (0, 245, 255),
    (71, 0, 255), (122, 0, 255), (0, 255, 184), (0, 92, 255), (184, 255, 0), (0, 133, 255), (255, 214, 0),
    (25, 194, 194), (102, 255, 0), (92, 0, 255),
)

# SegNet's colours of CamVid's ids 0..10 (names: data/camvid_dataset.py).
CAMVID_COLORS = ((128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
                 (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192))

# COCO-Stuff's 182 class names, ids 0..181 (labels.txt 1..182; its 0 'unlabeled' is raw 255 here).
COCO_NAMES = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
    'fire hydrant', 'street sign', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep',
    'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'hat', 'backpack', 'umbrella', 'shoe', 'eye glasses',
    'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat',
    'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle', 'plate', 'wine glass', 'cup', 'fork',
    'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza',
    'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'mirror', 'dining table', 'window', 'desk',
    'toilet', 'door', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
    'toaster', 'sink', 'refrigerator', 'blender', 'book', 'clock', 'vase', 'scissors', 'teddy bear',
    'hair drier', 'toothbrush', 'hair brush', 'banner', 'blanket', 'branch', 'bridge', 'building-other', 'bush',
    'cabinet', 'cage', 'cardboard', 'carpet', 'ceiling-other', 'ceiling-tile', 'cloth', 'clothes', 'clouds',
    'counter', 'cupboard', 'curtain', 'desk-stuff', 'dirt', 'door-stuff', 'fence', 'floor-marble', 'floor-other',
    'floor-stone', 'floor-tile', 'floor-wood', 'flower', 'fog', 'food-other', 'fruit', 'furniture-other', 'grass',
    'gravel', 'ground-other', 'hill', 'house', 'leaves', 'light', 'mat', 'metal', 'mirror-stuff', 'moss',
    'mountain', 'mud', 'napkin', 'net', 'paper', 'pavement', 'pillow', 'plant-other', 'plastic', 'platform',
    'playingfield', 'railing', 'railroad', 'river', 'road', 'rock', 'roof', 'rug', 'salad', 'sand', 'sea',
    'shelf', 'sky-other', 'skyscraper', 'snow', 'solid-other', 'stairs', 'stone', 'straw', 'structural-other',
    'table', 'tent', 'textile-other', 'towel', 'tree', 'vegetable', 'wall-brick', 'wall-concrete', 'wall-other',
    'wall-panel', 'wall-stone', 'wall-tile', 'wall-wood', 'water-other', 'waterdrops', 'window-blind',
    'window-other', 'wood',
)
# SPADE's own colours for a few large COCO-Stuff classes (its util.labelcolormap).
COCO_COLORS = {'sea': (54, 62, 167), 'sky-other': (95, 219, 255), 'tree': (140, 104, 47),
               'clouds': (170, 170, 170), 'grass': (29, 195, 49)}
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


def dontcare_entry(opt):
    return [(opt.label_nc, DONTCARE_NAME, BLACK)] if opt.contain_dontcare_label else []


def cityscapes(opt):
    return Palette('cityscapes', "Cityscapes' colours",
                   [(i, name, colour) for i, (name, colour) in enumerate(CITYSCAPES) if i < opt.label_nc])


def ade20k(opt):
    return Palette('ade20k', "ADE20K's colours",
                   [(i, name, colour) for i, (name, colour) in enumerate(zip(ADE20K_NAMES, ADE20K_COLORS))
                    if i < opt.label_nc] + dontcare_entry(opt))


def coco(opt):
    table = colormap(len(COCO_NAMES) + 1)[1:]
    entries = [(i, name, COCO_COLORS.get(name, table[i])) for i, name in enumerate(COCO_NAMES) if i < opt.label_nc]
    return Palette('coco', "COCO-Stuff's colours (SPADE's)", entries + dontcare_entry(opt))


def camvid(opt):
    return Palette('camvid', "CamVid's colours (SegNet's)",
                   [(i, name, colour) for i, (name, colour) in enumerate(zip(camvid_dataset.CLASSES, CAMVID_COLORS))
                    if i < opt.label_nc] + dontcare_entry(opt))


def demo(opt):
    ids = demo_scenes.LABEL_IDS['cityscapes']
    order = list(range(1, len(ids))) + [0]  # 'void' (the ego vehicle's bonnet) last
    names = {demo_scenes.VOID: 'ego vehicle (void)'}
    return Palette('demo', "the demo's classes (Cityscapes ids and colours)",
                   [(ids[c], names.get(c, demo_scenes.CLASSES[c]), CITYSCAPES[ids[c]][1]) for c in order
                    if ids[c] < opt.label_nc])


def labels(opt):
    colours = label_colors(opt.label_nc)
    return Palette('labels', "test.py's label colours",
                   [(i, f'class {i}', colours[i]) for i in range(opt.label_nc)]
                   + [(i, name, colours[opt.label_nc]) for i, name, _ in dontcare_entry(opt)])


# Which official palette fits a model: by its dataset mode, else by its label count.
BY_MODE = {'cityscapes': cityscapes, 'demo': demo, 'ade20k': ade20k, 'coco': coco, 'camvid': camvid}
BY_COUNT = {35: cityscapes, 150: ade20k, 182: coco}


def official(opt):
    make = BY_MODE.get(getattr(opt, 'dataset_mode', None)) or BY_COUNT.get(opt.label_nc)
    return make(opt) if make else None


def palettes_for(opt):
    """The palettes a colour label map of this model may use, the most likely first."""
    found = [official(opt)]
    if getattr(opt, 'dataset_mode', None) == 'demo':
        found.append(cityscapes(opt))  # the demo's ids are Cityscapes', so are all its colours
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
    """Every official palette at its dataset's label count, for recognising colour files of unknown origin."""
    from types import SimpleNamespace
    # CamVid before COCO-Stuff: all of SegNet's colours but pavement's are in COCO-Stuff's table too.
    return [cityscapes(SimpleNamespace(label_nc=35, contain_dontcare_label=False)),
            ade20k(SimpleNamespace(label_nc=150, contain_dontcare_label=True)),
            camvid(SimpleNamespace(label_nc=camvid_dataset.CamvidDataset.LABEL_NC, contain_dontcare_label=True)),
            coco(SimpleNamespace(label_nc=182, contain_dontcare_label=True))]
