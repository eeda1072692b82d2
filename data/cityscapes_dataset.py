"""Cityscapes as distributed (leftImg8bit + gtFine), with SPADE's defaults.

Labels are the gtFine labelIds (0..33, label_nc 35, no don't-care value); instance
maps are gtFine instanceIds (stuff pixels hold their class id, objects class*1000+k).
--phase train/val/test reads the folder of the same name. Colours: Cityscapes' official ones
(cityscapesScripts helpers/labels.py) for labelIds 0..33, and 34 = license plate, as SPADE's 35-entry
table; several ids share a colour (0-4 black, 17/18 grey, 26/34 dark blue), which reads back as the
first of them. mIoU scores the 19 train ids that cityscapesScripts evaluates (and DRN-D-105 predicts).
"""
import os

from data.base_dataset import BaseDataset, list_files, require_dir

# (name, colour) per Cityscapes labelId 0..34.
TABLE = (
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

# cityscapesScripts' labels.py: labelId -> trainId for the ids it evaluates; the other 16 (void, parking, rail
# track, guard rail, bridge, tunnel, polegroup, caravan, trailer, ...) are not scored.
TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13,
             27: 14, 28: 15, 31: 16, 32: 17, 33: 18}


class CityscapesDataset(BaseDataset):
    # the model card's licence (an SPDX id, or 'other' with a name), Hugging Face's dataset tag, and what
    # the dataset's terms mean for weights trained on it
    LICENCE = ('other', 'cityscapes-terms', 'cityscapes', (
        'Cityscapes (Cordts et al., CVPR 2016), whose terms (https://www.cityscapes-dataset.com/license/) '
        'allow non-commercial research use with citation and forbid redistributing the data: read them '
        'before using or sharing these weights.'))
    LABEL_NC = 35
    CONTAIN_DONTCARE_LABEL = False
    IMAGE_SUFFIX = '_leftImg8bit.png'
    LABEL_SUFFIX = '_gtFine_labelIds.png'
    INSTANCE_SUFFIX = '_gtFine_instanceIds.png'
    RAW_VALUES = 'Cityscapes labelIds'
    CLASSES = tuple(name for name, _ in TABLE)
    COLORS = tuple(colour for _, colour in TABLE)
    PALETTE_TITLE = "Cityscapes' colours"
    KNOWN_BY_LABEL_COUNT = True
    SEGMENTER = 'drn'
    SCORED_IDS = TRAIN_IDS

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        # SPADE's: 256×512 with one more upsampling step in G_I (its latent is 4×8), batch 16.
        parser.set_defaults(preprocess_mode='fixed', load_size=512, crop_size=512, display_winsize=512,
                            label_nc=cls.LABEL_NC, aspect_ratio=2.0, contain_dontcare_label=cls.CONTAIN_DONTCARE_LABEL,
                            batchSize=16, num_upsampling_layers='more')
        return parser

    def layout(self):
        return (f"<dataroot>/leftImg8bit/{self.phase}/<city>/*{self.IMAGE_SUFFIX} and "
                f"<dataroot>/gtFine/{self.phase}/<city>/*{self.LABEL_SUFFIX} (+ *{self.INSTANCE_SUFFIX} "
                f"unless --no_instance)")

    def get_paths(self):
        require_dir(self.root, '--dataroot', self.layout())
        images = list_files(os.path.join(self.root, 'leftImg8bit', self.phase), self.IMAGE_SUFFIX,
                            self.layout(), recursive=True)
        gt = os.path.join(self.root, 'gtFine', self.phase)
        labels = list_files(gt, self.LABEL_SUFFIX, self.layout(), recursive=True)
        instances = list_files(gt, self.INSTANCE_SUFFIX, self.layout(), recursive=True) if self.instances else []
        return labels, images, instances
