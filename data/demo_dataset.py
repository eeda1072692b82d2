"""The demo: small generated street scenes read through the real Cityscapes code.

On first use (--dataroot missing or empty) the scenes are generated there by
data/demo_scenes.py (Cityscapes format, 256x128, 200 train + 20 val); later runs
reuse them. Defaults suit a quick CPU run (`python train.py` in ~8 minutes on 2 cores):
128x64 images, 20 epochs, and base_dataset.set_cpu_defaults' batches of 4, narrow model and
machine-chosen --amp, --channels_last and VGG loss. Its ids and colours are Cityscapes' (a Cityscapes colour
picture reads as a demo label map too); mIoU scores them with the small segmenter, not Cityscapes' DRN.
"""
import os
import shutil

from data.base_dataset import set_cpu_defaults
from data.cityscapes_dataset import CityscapesDataset
from data import demo_scenes

# What first use generates (make_demo's defaults); a module constant so tests can shrink it.
SCENES = {'num_train': 200, 'num_val': 20, 'width': 256, 'height': 128}


class DemoDataset(CityscapesDataset):
    # the model card's licence (an SPDX id, or 'other' with a name), Hugging Face's dataset tag, and what
    # the dataset's terms mean for weights trained on it
    LICENCE = ('other', 'ulbpgan-demo-data', None, (
        "the project's own demo scenes, generated procedurally by data/demo_scenes.py (no photographs, no "
        "third-party data): the weights carry no dataset licence beyond this repository's own terms."))
    RAW_VALUES = 'Cityscapes labelIds (the demo)'
    PALETTE_TITLE = "the demo's classes (Cityscapes ids and colours)"
    KNOWN_BY_LABEL_COUNT = False  # (35 labels are Cityscapes')
    SEGMENTER = 'small'  # (DRN knows real streets only)
    SCORED_IDS = None  # its own ids

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        parser = super().modify_commandline_options(parser, is_train)
        parser.set_defaults(load_size=128, crop_size=128, display_winsize=128,
                            num_upsampling_layers='normal')  # Cityscapes' 'more' would leave a 1×2 latent
        set_cpu_defaults(parser, is_train)
        if is_train:
            parser.set_defaults(niter=20, display_freq=100, print_freq=25, save_epoch_freq=10)
        return parser

    @classmethod
    def palette_entries(cls, label_nc):
        ids = demo_scenes.LABEL_IDS['cityscapes']
        order = list(range(1, len(ids))) + [0]  # 'void' (the ego vehicle's bonnet) last
        names = {demo_scenes.VOID: 'ego vehicle (void)'}
        return [(ids[c], names.get(c, demo_scenes.CLASSES[c]), cls.COLORS[ids[c]]) for c in order if ids[c] < label_nc]

    def get_paths(self):
        if not os.path.isdir(self.root) or not os.listdir(self.root):
            generate(self.root)
        return super().get_paths()


def generate(root):
    """Write the demo scenes to `root`; safe when several processes (torchrun ranks) race."""
    print(f"demo data not found in {root}: generating it with data/demo_scenes.py (takes a few seconds)")
    # Build next to root and rename into place, so no process ever sees half the files.
    tmp = f"{os.path.normpath(root)}.tmp{os.getpid()}"
    demo_scenes.make_demo(tmp, fmt='cityscapes', **SCENES)
    try:
        os.replace(tmp, root)
    except OSError:  # another process got there first (root is no longer empty)
        shutil.rmtree(tmp)
