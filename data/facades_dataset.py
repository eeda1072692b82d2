"""The CMP Facade Database, base set: 378 rectified photos of building facades with 12 classes, at CPU sizes.

Where to get it: the folder `base/` of the public repository
https://github.com/Thunderwisking/CMP_facade_Toolf4InstanceSegmentation (a copy of the base set published at
https://cmp.felk.cvut.cz/~tylecr1/facade/), its files in `datasets/facades` (git-ignored), the default
--dataroot of this mode and of scripts/facades.sh. Neither copy states a licence; the authors ask that it be
cited as R. Tylecek and R. Sara, "Spatial Pattern Templates for Recognition of Objects with Regular
Structure", GCPR 2013.

Layout (--dataroot is that folder; every split is in it):
    <dataroot>/cmp_bNNNN.jpg   photos, RGB, each its own size (up to 1024 pixels a side)
    <dataroot>/cmp_bNNNN.png   label maps of the same names and sizes, palette PNGs of the values
                               1 background, 2 facade, 3 window, 4 door, 5 cornice, 6 sill, 7 balcony,
                               8 blind, 9 deco, 10 molding, 11 pillar, 12 shop
Other files there (the .xml object boxes beside them) are not read. The split is fixed, by number:
0001-0300 train, 0301-0338 val, 0339-0378 test (--phase). Background is a class like the others (the files
label every pixel): values 1..12 are ids 0..11 and there is no don't-care id, so a 0 or a value over 12 is
refused with the file named. Colours: the label PNGs' own palette, so a label map drawn in them reads back.

Defaults for a CPU: each photo resized whole to 128x128 (--preprocess_mode fixed, --aspect_ratio 1: pix2pix
squares its facades too), random flips, base_dataset.set_cpu_defaults (batches of 4, ngf/ndf 16, MFADE hidden
width 32, --amp/--channels_last/VGG chosen by the machine), 10 epochs of 75 iterations with SPADE's schedule
(5 constant, 5 decaying: 750 iterations, 18 minutes of CPU time of one core with bf16 units; README "Train on
real photos" has the run), --dataroot ./datasets/facades and --name facades. Scored by the small segmenter.
"""
import os
import re

from data.base_dataset import BaseDataset, list_files, require_dir, set_cpu_defaults
from util.errors import UserError

URL = 'https://github.com/Thunderwisking/CMP_facade_Toolf4InstanceSegmentation'
SPLITS = {'train': (1, 300), 'val': (301, 338), 'test': (339, 378)}  # file numbers, first and last
FILE = re.compile(r'cmp_b(\d+)\.(jpg|png)', re.IGNORECASE)


class FacadesDataset(BaseDataset):
    # the model card's licence (an SPDX id, or 'other' with a name), Hugging Face's dataset tag, and what
    # the dataset's terms mean for weights trained on it
    LICENCE = ('other', 'cmp-facades-research', 'cmp-facades', (
        'CMP Facades (Tylecek and Sara, "Spatial pattern templates for recognition of objects with '
        'regular structure", GCPR 2013). Released for research use: use these weights for research only '
        'and cite that paper in any work that uses them or their images.'))
    CLASSES = ('background', 'facade', 'window', 'door', 'cornice', 'sill', 'balcony', 'blind', 'deco', 'molding',
               'pillar', 'shop')
    LABEL_NC = len(CLASSES)
    CONTAIN_DONTCARE_LABEL = False
    LABEL_FIX = (f"CMP Facade label maps hold 1-{len(CLASSES)} ({', '.join(f'{i} {n}' for i, n in enumerate(CLASSES, 1))}):"
                 f" take the cmp_b*.png files of the folder base/ of {URL} as they are")
    RAW_VALUES = f'CMP Facade values, 1 = background ... {len(CLASSES)} = shop'
    COLORS = ((0, 0, 170), (0, 0, 255), (0, 85, 255), (0, 170, 255), (0, 255, 255), (85, 255, 170), (170, 255, 85),
              (255, 255, 0), (255, 170, 0), (255, 85, 0), (255, 0, 0), (170, 0, 0))
    PALETTE_TITLE = "CMP Facades' colours (its label PNGs')"

    @classmethod
    def modify_commandline_options(cls, parser, is_train):
        parser.set_defaults(dataroot='./datasets/facades', name='facades', preprocess_mode='fixed', load_size=128,
                            crop_size=128, aspect_ratio=1.0, display_winsize=128, label_nc=cls.LABEL_NC,
                            contain_dontcare_label=cls.CONTAIN_DONTCARE_LABEL, no_instance=True,
                            num_upsampling_layers='normal')
        set_cpu_defaults(parser, is_train)
        if is_train:
            parser.set_defaults(niter=5, niter_decay=5, display_freq=100, print_freq=25, save_epoch_freq=5)
        return parser

    def layout(self):
        first, last = SPLITS.get(self.phase, (1, 378))
        return (f"<dataroot>/cmp_bNNNN.jpg photos and <dataroot>/cmp_bNNNN.png label maps, NNNN {first:04d}-{last:04d} "
                f"for --phase {self.phase}: the folder base/ of {URL}")

    def get_paths(self):
        if self.phase not in SPLITS:
            raise UserError(f"--phase {self.phase}: the CMP Facade base set is split into {', '.join(SPLITS)}")
        require_dir(self.root, '--dataroot', self.layout())
        first, last = SPLITS[self.phase]

        def in_split(path):
            found = FILE.fullmatch(os.path.basename(path))
            return found is not None and first <= int(found.group(1)) <= last

        images = [p for p in list_files(self.root, '.jpg', self.layout()) if in_split(p)]
        labels = [p for p in list_files(self.root, '.png', self.layout()) if in_split(p)]
        return labels, images, []

    @classmethod
    def map_label(cls, label, label_nc, contain_dontcare_label):
        # the files' 1..12 are ids 0..11; a 0 becomes -1, out of range like any value over 12, and is refused
        return label - 1
