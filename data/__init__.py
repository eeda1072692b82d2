"""Dataset registry: `--dataset_mode X` loads class XDataset from data/X_dataset.py (SPADE's rule)."""
import importlib

from util.errors import UserError

MODES = ('cityscapes', 'ade20k', 'coco', 'custom', 'demo')


def find_dataset_using_name(dataset_mode):
    if dataset_mode not in MODES:
        raise UserError(f"--dataset_mode {dataset_mode}: unknown; choose one of {', '.join(MODES)}")
    module = importlib.import_module(f'data.{dataset_mode}_dataset')
    wanted = dataset_mode.replace('_', '') + 'dataset'
    for name, cls in vars(module).items():
        if name.lower() == wanted:
            return cls
    raise ImportError(f"data/{dataset_mode}_dataset.py defines no class named like {wanted}")


def get_option_setter(dataset_mode):
    return find_dataset_using_name(dataset_mode).modify_commandline_options
