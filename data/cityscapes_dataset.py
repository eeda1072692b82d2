"""Cityscapes as distributed (leftImg8bit + gtFine), with SPADE's defaults.

Labels are the gtFine labelIds (0..33, label_nc 35, no don't-care value); instance
maps are gtFine instanceIds (stuff pixels hold their class id, objects class*1000+k).
--phase train/val/test reads the folder of the same name.
"""
import os

from data.base_dataset import BaseDataset, list_files, require_dir


class CityscapesDataset(BaseDataset):
    IMAGE_SUFFIX = '_leftImg8bit.png'
    LABEL_SUFFIX = '_gtFine_labelIds.png'
    INSTANCE_SUFFIX = '_gtFine_instanceIds.png'

    @staticmethod
    def modify_commandline_options(parser, is_train):
        # SPADE's: 256×512 with one more upsampling step in G_I (its latent is 4×8), batch 16.
        parser.set_defaults(preprocess_mode='fixed', load_size=512, crop_size=512, display_winsize=512,
                            label_nc=35, aspect_ratio=2.0, contain_dontcare_label=False, batchSize=16)
        if hasattr(parser.peek(), 'num_upsampling_layers'):
            parser.set_defaults(num_upsampling_layers='more')
        return parser

    def layout(self):
        return (f"<dataroot>/leftImg8bit/{self.opt.phase}/<city>/*{self.IMAGE_SUFFIX} and "
                f"<dataroot>/gtFine/{self.opt.phase}/<city>/*{self.LABEL_SUFFIX} (+ *{self.INSTANCE_SUFFIX} "
                f"unless --no_instance)")

    def get_paths(self, opt):
        require_dir(opt.dataroot, '--dataroot', self.layout())
        images = list_files(os.path.join(opt.dataroot, 'leftImg8bit', opt.phase), self.IMAGE_SUFFIX,
                            self.layout(), recursive=True)
        gt = os.path.join(opt.dataroot, 'gtFine', opt.phase)
        labels = list_files(gt, self.LABEL_SUFFIX, self.layout(), recursive=True)
        instances = [] if opt.no_instance else list_files(gt, self.INSTANCE_SUFFIX, self.layout(), recursive=True)
        return labels, images, instances

    def pair_key(self, path):
        # <city>_<seq>_<frame> is what the three file names share.
        return '_'.join(os.path.basename(path).split('_')[:3])
