"""COCO-Stuff in SPADE's layout: <dataroot>/{train,val}_{img,label,inst}/.

Labels are 0..181 with 255 unlabelled, mapped to don't-care 182 (label_nc 182,
--contain_dontcare_label). --phase test reads the val folders. The *_inst folder
is needed unless --no_instance.
"""
import os

from data.base_dataset import BaseDataset, list_files, require_dir
from util.errors import UserError


class CocoDataset(BaseDataset):
    LABEL_NC = 182
    CONTAIN_DONTCARE_LABEL = True

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
