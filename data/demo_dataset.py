"""The demo: small generated street scenes read through the real Cityscapes code.

On first use (--dataroot missing or empty) the scenes are generated there by
data/demo_scenes.py (Cityscapes format, 256x128, 200 train + 20 val); later runs
reuse them. Defaults suit a quick CPU run (`python train.py` in ~8 minutes on 2 cores):
128x64 images, 20 epochs, and base_dataset.set_cpu_defaults' batches of 4, narrow model and
machine-chosen --amp, --channels_last and VGG loss.
"""
import os
import shutil

from data.base_dataset import set_cpu_defaults
from data.cityscapes_dataset import CityscapesDataset
from data.demo_scenes import make_demo

# What first use generates (make_demo's defaults); a module constant so tests can shrink it.
SCENES = {'num_train': 200, 'num_val': 20, 'width': 256, 'height': 128}


class DemoDataset(CityscapesDataset):
    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        parser = super().modify_commandline_options(parser, is_train)
        parser.set_defaults(load_size=128, crop_size=128, display_winsize=128,
                            num_upsampling_layers='normal')  # Cityscapes' 'more' would leave a 1×2 latent
        set_cpu_defaults(parser, is_train)
        if is_train:
            parser.set_defaults(niter=20, display_freq=100, print_freq=25, save_epoch_freq=10)
        return parser

    def get_paths(self):
        if not os.path.isdir(self.root) or not os.listdir(self.root):
            generate(self.root)
        return super().get_paths()


def generate(root):
    """Write the demo scenes to `root`; safe when several processes (torchrun ranks) race."""
    print(f"demo data not found in {root}: generating it with data/demo_scenes.py (takes a few seconds)")
    # Build next to root and rename into place, so no process ever sees half the files.
    tmp = f"{os.path.normpath(root)}.tmp{os.getpid()}"
    make_demo(tmp, fmt='cityscapes', **SCENES)
    try:
        os.replace(tmp, root)
    except OSError:  # another process got there first (root is no longer empty)
        shutil.rmtree(tmp)
