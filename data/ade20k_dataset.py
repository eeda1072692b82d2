"""ADE20K (ADEChallengeData2016 layout) with SPADE's defaults.

Annotations store 0 for unlabelled pixels and 1..150 for classes; they are shifted
to ids 0..149 with don't-care 150 (label_nc 150, --contain_dontcare_label).
--phase train reads 'training', val and test read 'validation'. No instance maps.
"""
import os

import numpy as np

from data.base_dataset import BaseDataset, list_files, require_dir


class Ade20kDataset(BaseDataset):
    LABEL_NC = 150
    CONTAIN_DONTCARE_LABEL = True

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
