"""The dataset's own full-resolution label maps, for `--seg_size original`.

test.py saves the label map at the model's resolution; `original` scores against the file the
dataset ships instead (Cityscapes gtFine: 1024×2048). The file of each result is found by the
data factory's dataset of the run's --dataset_mode, --dataroot (or custom's folders) and --phase,
with the label settings of opt.json (the same layout rules and pairing test.py used), and read the
same way: raw values -> ids by the dataset's map_label.
The synthesized image covers the whole label map (every dataset's test-time preprocessing
resizes without cropping), so upsampling it to the label's size lines the two up.
"""
import os

import data
from data.base_dataset import read_label
from util.errors import UserError


class DatasetLabels:
    def __init__(self, cfg):
        """cfg: evaluate.py's options (dataset_mode, dataroot, phase) and `saved`, the run's options."""
        saved = cfg.saved
        where = data.location(cfg.dataset_mode, {**saved, 'dataroot': cfg.dataroot})
        dataset = data.open_dataset(cfg.dataset_mode, cfg.phase, where, saved.get('label_nc'),
                                    saved.get('contain_dontcare_label'), instances=False,  # no part in scoring
                                    pairing_check=not saved.get('no_pairing_check', False))
        self.paths = {os.path.splitext(os.path.basename(image))[0]: label
                      for image, label in zip(dataset.image_paths, dataset.label_paths)}
        self.label_ids = dataset.label_ids
        self.where = f"{dataset.where()} --phase {cfg.phase}"

    def read(self, stem):
        """The label ids of the sample test.py saved as <stem>.png, at the dataset's resolution."""
        if stem not in self.paths:
            raise UserError(f"{stem}: no label file for this result in {self.where}; pass the --dataroot "
                            f"test.py read, or use --seg_size native")
        return self.label_ids(read_label(self.paths[stem]))
