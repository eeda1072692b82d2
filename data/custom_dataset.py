"""Your own data: --label_dir, --image_dir and optionally --instance_dir.

Files are paired by sorted name and must share their stem (a.png <-> a.jpg) unless
--no_pairing_check. Label maps are single-channel PNGs of class ids; pass the number
of classes with --label_nc (the base default 182 only suits COCO-Stuff) and
--contain_dontcare_label if 255 marks unlabelled pixels (it becomes id label_nc).
Without --instance_dir, --no_instance is the default. --dataroot is not used.
`python -m data.check_labels LABEL_DIR --image_dir IMAGE_DIR` checks such folders and prints the
options to train with; its --convert turns colour label maps into the id PNGs read here.
"""
from data.base_dataset import BaseDataset, list_files
from util.errors import UserError

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
LABEL_SUFFIXES = ('.png', '.bmp', '.tif', '.tiff')


class CustomDataset(BaseDataset):
    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        parser.set_defaults(preprocess_mode='resize_and_crop', load_size=286 if is_train else 256, crop_size=256,
                            display_winsize=256, aspect_ratio=1.0)
        if not parser.peek().instance_dir:
            parser.set_defaults(no_instance=True)
        return parser

    @classmethod
    def location(cls, values):
        return {k: values.get(k) or '' for k in ('label_dir', 'image_dir', 'instance_dir')}

    def __init__(self, label_dir='', image_dir='', instance_dir='', **settings):
        """The three folders instead of a root; settings: BaseDataset's other arguments."""
        self.label_dir, self.image_dir, self.instance_dir = label_dir, image_dir, instance_dir
        super().__init__(None, **settings)

    def layout(self):
        return "--label_dir DIR/*.png, --image_dir DIR/*.jpg|png (same stems), optional --instance_dir DIR/*.png"

    def where(self):
        return f"--image_dir {self.image_dir} / --label_dir {self.label_dir}"

    def get_paths(self):
        for name in ('label_dir', 'image_dir'):
            if not getattr(self, name):
                raise UserError(f"--dataset_mode custom needs --{name}; expected {self.layout()}")
        labels = list_files(self.label_dir, LABEL_SUFFIXES, self.layout())
        images = list_files(self.image_dir, IMAGE_SUFFIXES, self.layout())
        instances = []
        if self.instances:
            if not self.instance_dir:
                raise UserError("--dataset_mode custom without --instance_dir needs --no_instance")
            instances = list_files(self.instance_dir, LABEL_SUFFIXES, self.layout())
        return labels, images, instances
