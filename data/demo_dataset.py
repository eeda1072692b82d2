"""The demo: small generated street scenes read through the real Cityscapes code.

On first use (--dataroot missing or empty) the scenes are generated there by
data/demo_scenes.py (Cityscapes format, 256x128, 200 train + 20 val); later runs
reuse them. Defaults suit a quick CPU run (`python train.py` in ~8 minutes on 2 cores):
128x64 images, batches of 4, a narrow model (ngf/ndf 16, MFADE hidden width 32), 20
epochs, bf16 autocast + channels_last on a CPU with bf16 units (util/machine.py); the VGG loss only when its
weights are already at hand (--vgg_weights or the torch hub cache), since the demo must run offline.
"""
import os
import shutil

from data.cityscapes_dataset import CityscapesDataset
from data.demo_scenes import make_demo
from util import machine
from util.weights import hub_checkpoint_path

# What first use generates (make_demo's defaults); a module constant so tests can shrink it.
SCENES = {'num_train': 200, 'num_val': 20, 'width': 256, 'height': 128}


class DemoDataset(CityscapesDataset):
    @staticmethod
    def modify_commandline_options(parser, is_train):
        parser = CityscapesDataset.modify_commandline_options(parser, is_train)
        parser.set_defaults(label_nc=35, aspect_ratio=2.0, load_size=128, crop_size=128, preprocess_mode='fixed',
                            batchSize=4, display_winsize=128, contain_dontcare_label=False,
                            ngf=16, nhidden=32)
        if hasattr(parser.peek(), 'num_upsampling_layers'):
            parser.set_defaults(num_upsampling_layers='normal')  # Cityscapes' 'more' would leave a 1×2 latent
        if is_train:
            parser.set_defaults(ndf=16, niter=20, display_freq=100, print_freq=25, save_epoch_freq=10)
            if machine.cpu_run(parser.peek()) and machine.cpu_has_bf16():
                # It learns as fp32 does (README, demo table) in 0.6 of the time.
                parser.set_defaults(amp='bf16', channels_last=True)
                if parser.peek().amp == 'bf16':
                    print("demo on a CPU with bf16 units: --amp bf16 --channels_last (--amp none for fp32)")
            if not parser.peek().vgg_weights and not os.path.isfile(hub_checkpoint_path('vgg19-dcbb9e9d.pth')):
                parser.set_defaults(no_vgg_loss=True)
        return parser

    def get_paths(self, opt):
        if not os.path.isdir(opt.dataroot) or not os.listdir(opt.dataroot):
            generate(opt.dataroot)
        return super().get_paths(opt)


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

