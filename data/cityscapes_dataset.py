"""Cityscapes as distributed (leftImg8bit + gtFine), with SPADE's defaults.

Labels are the gtFine labelIds (0..33, label_nc 35, no don't-care value); instance
maps are gtFine instanceIds (stuff pixels hold their class id, objects class*1000+k).
--phase train/val/test reads the folder of the same name.
"""
import os

from data.base_dataset import BaseDataset, list_files, require_dir


class CityscapesDataset(BaseDataset):
    LABEL_NC = 35
    CONTAIN_DONTCARE_LABEL = False
    IMAGE_SUFFIX = '_leftImg8bit.png'
    LABEL_SUFFIX = '_gtFine_labelIds.png'
    INSTANCE_SUFFIX = '_gtFine_instanceIds.png'

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
