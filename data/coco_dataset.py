"""COCO-Stuff in SPADE's layout: <dataroot>/{train,val}_{img,label,inst}/.

Labels are 0..181 with 255 unlabelled, mapped to don't-care 182 (label_nc 182,
--contain_dontcare_label). --phase test reads the val folders. The *_inst folder
is needed unless --no_instance. Names: COCO-Stuff's 182 (cocostuff labels.txt). Colours: SPADE's for
COCO-Stuff, the bit-spread table of data/palettes.py's `colormap` at id + 1 and its own colours for sea,
sky-other, tree, clouds and grass (COCO-Stuff itself publishes colours only for stuff classes, things
all black); black = raw 255 = unlabelled (the don't-care id 182). mIoU is averaged over the classes in
the ground truth, as kazuto1011's deeplab-pytorch does.
"""
import os

from data.base_dataset import BaseDataset, list_files, require_dir
from data.palettes import colormap
from util.errors import UserError

# SPADE's own colours for a few large COCO-Stuff classes (its util.labelcolormap).
SPADE_COLORS = {'sea': (54, 62, 167), 'sky-other': (95, 219, 255), 'tree': (140, 104, 47),
                'clouds': (170, 170, 170), 'grass': (29, 195, 49)}


def spade_colors(names):
    """SPADE's colours of COCO-Stuff's classes: colormap's at id + 1, or its own (SPADE_COLORS)."""
    table = colormap(len(names) + 1)[1:]
    return tuple(SPADE_COLORS.get(name, tuple(int(v) for v in table[i])) for i, name in enumerate(names))


class CocoDataset(BaseDataset):
    # the model card's licence (an SPDX id, or 'other' with a name), Hugging Face's dataset tag, and what
    # the dataset's terms mean for weights trained on it
    LICENCE = ('other', 'coco-stuff-terms', 'coco-stuff', (
        "COCO-Stuff (Caesar et al., CVPR 2018): its annotations are CC BY 4.0 and its images are Flickr's "
        "under their owners' terms (https://github.com/nightrome/cocostuff): read them before using or "
        'sharing these weights.'))
    LABEL_NC = 182
    CONTAIN_DONTCARE_LABEL = True
    RAW_VALUES = 'COCO-Stuff ids, 255 = unlabelled'
    # COCO-Stuff's names of ids 0..181 (labels.txt 1..182; its 0 'unlabeled' is raw 255 here).
    CLASSES = (
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
    COLORS = spade_colors(CLASSES)
    PALETTE_TITLE = "COCO-Stuff's colours (SPADE's)"
    KNOWN_BY_LABEL_COUNT = True
    SEGMENTER = 'deeplabv2'
    MIOU_RULE = 'gt'

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        parser.set_defaults(preprocess_mode='resize_and_crop', load_size=286 if is_train else 256, crop_size=256,
                            display_winsize=256, label_nc=cls.LABEL_NC,
                            contain_dontcare_label=cls.CONTAIN_DONTCARE_LABEL, aspect_ratio=1.0)
        return parser

    def split(self):
        return 'val' if self.phase == 'test' else self.phase

    def layout(self):
        s = self.split()
        return (f"<dataroot>/{s}_img/*.jpg, <dataroot>/{s}_label/*.png (+ <dataroot>/{s}_inst/*.png "
                f"unless --no_instance)")

    def get_paths(self):
        require_dir(self.root, '--dataroot', self.layout())
        folder = lambda kind: os.path.join(self.root, f'{self.split()}_{kind}')
        images = list_files(folder('img'), ('.jpg', '.jpeg', '.png'), self.layout())
        labels = list_files(folder('label'), '.png', self.layout())
        instances = []
        if self.instances:
            if not os.path.isdir(folder('inst')):
                raise UserError(f"{folder('inst')} not found; COCO instance maps are optional: pass "
                                f"--no_instance to train without them")
            instances = list_files(folder('inst'), '.png', self.layout())
        return labels, images, instances
