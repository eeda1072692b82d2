"""The dataset's own full-resolution label maps, for `--seg_size original`.

test.py saves the label map at the model's resolution; `original` scores against the file the
dataset ships instead (Cityscapes gtFine: 1024×2048). The file of each result is found through
the dataset class of data/ for the run's --dataroot and --phase (the same layout rules and
pairing test.py used), and read the same way: raw values -> ids by the dataset's map_label.
The synthesized image covers the whole label map (every dataset's test-time preprocessing
resizes without cropping), so upsampling it to the label's size lines the two up.
"""
import os

import data
from data.base_dataset import read_label
from options.base_options import BaseOptions
from util.errors import UserError


class DatasetLabels:
    def __init__(self, cfg):
        opt = BaseOptions().parse(_data_argv(cfg))
        dataset = data.find_dataset_using_name(opt.dataset_mode)(opt)
        self.paths = {os.path.splitext(os.path.basename(image))[0]: label
                      for image, label in zip(dataset.image_paths, dataset.label_paths)}
        self.map_label = dataset.map_label
        self.where = f"{dataset.where()} --phase {cfg.phase}"

    def read(self, stem):
        """The label ids of the sample test.py saved as <stem>.png, at the dataset's resolution."""
        if stem not in self.paths:
            raise UserError(f"{stem}: no label file for this result in {self.where}; pass the --dataroot "
                            f"test.py read, or use --seg_size native")
        return self.map_label(read_label(self.paths[stem]))


def _data_argv(cfg):
    """The data options test.py had: the training options in opt.json when there is one, the run's
    dataroot and phase. (BaseOptions, not TestOptions: those would also read defaults from whatever
    checkpoint --name points at.)"""
    argv = ['--dataset_mode', cfg.dataset_mode, '--phase', cfg.phase, '--gpu_ids', '-1', '--nThreads', '0',
            '--no_instance']  # instance maps play no part in scoring
    if cfg.opt_file:
        argv += ['--name', cfg.name, '--checkpoints_dir', cfg.checkpoints_dir, '--load_from_opt_file']
    if cfg.dataroot:
        argv += ['--dataroot', cfg.dataroot]
    return argv
