"""ADE20K (ADEChallengeData2016 layout) with SPADE's defaults.

Annotations store 0 for unlabelled pixels and 1..150 for classes; they are shifted
to ids 0..149 with don't-care 150 (label_nc 150, --contain_dontcare_label).
--phase train reads 'training', val and test read 'validation'. No instance maps.
Colours: the scene-parsing benchmark's 150 (CSAIL's color150, as mmsegmentation lists them), with short
names; black = raw 0 = unlabelled (the don't-care id 150). road and skyscraper share (140, 140, 140),
which reads back as road. mIoU is averaged over all 150 classes, as CSAIL's eval.py does.
"""
import os

import numpy as np

from data.base_dataset import BaseDataset, list_files, require_dir


class Ade20kDataset(BaseDataset):
    # the model card's licence (an SPDX id, or 'other' with a name), Hugging Face's dataset tag, and what
    # the dataset's terms mean for weights trained on it
    LICENCE = ('other', 'ade20k-terms', 'ade20k', (
        "ADE20K's scene-parsing benchmark (Zhou et al., CVPR 2017): read its terms of use "
        '(https://groups.csail.mit.edu/vision/datasets/ADE20K/) before using or sharing these weights.'))
    LABEL_NC = 150
    CONTAIN_DONTCARE_LABEL = True
    RAW_VALUES = 'ADE20K annotation values, 0 = unlabelled'
    CLASSES = (
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
    COLORS = (
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
    PALETTE_TITLE = "ADE20K's colours"
    KNOWN_BY_LABEL_COUNT = True
    SEGMENTER = 'upernet'
    MIOU_RULE = 'all'

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        parser.set_defaults(preprocess_mode='resize_and_crop', load_size=286 if is_train else 256, crop_size=256,
                            display_winsize=256, label_nc=cls.LABEL_NC,
                            contain_dontcare_label=cls.CONTAIN_DONTCARE_LABEL, no_instance=True, aspect_ratio=1.0)
        return parser

    def split(self):
        return 'training' if self.phase == 'train' else 'validation'

    def layout(self):
        s = self.split()
        return f"<dataroot>/images/{s}/ADE_*.jpg and <dataroot>/annotations/{s}/ADE_*.png"

    def get_paths(self):
        require_dir(self.root, '--dataroot', self.layout())
        images = list_files(os.path.join(self.root, 'images', self.split()), ('.jpg', '.jpeg'), self.layout())
        labels = list_files(os.path.join(self.root, 'annotations', self.split()), '.png', self.layout())
        return labels, images, []

    @classmethod
    def map_label(cls, label, label_nc, contain_dontcare_label):
        # raw 0 = unlabelled -> don't-care id label_nc; classes 1..150 -> 0..149
        label = label - 1
        return np.where(label < 0, label_nc, label)
