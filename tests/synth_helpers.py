"""One tiny trained checkpoint for the tests of generate.py, serve.py and the Synthesizer, trained once
per test session whichever of their files asks first (a fixture imported into several files would
otherwise run once per file)."""
import contextlib
import os

import numpy as np
import pytest
import torch
from PIL import Image

import train

NAME = 'tiny'
_trained = {}


def tiny_args(dataroot, ckdir, name=NAME):
    """A 64×32 Cityscapes-mode model (35 labelIds, instance edges) with G_L and the style encoder,
    after one iteration: seconds on a CPU."""
    return ['--dataset_mode', 'cityscapes', '--dataroot', dataroot, '--checkpoints_dir', str(ckdir), '--name', name,
            '--crop_size', '64', '--load_size', '64', '--num_upsampling_layers', 'normal', '--ngf', '4', '--ndf', '4',
            '--nhidden', '8', '--batchSize', '2', '--nThreads', '0', '--gpu_ids', '-1', '--no_vgg_loss',
            '--no_tf_log', '--display_freq', '1000', '--seed', '5', '--max_iters', '1', '--use_vae']


@contextlib.contextmanager
def single_thread():
    """One torch thread: a tiny model runs faster so, and much faster on a machine busy with other work."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope='module')
def one_thread():
    """single_thread() for the tests of one module (the other test files keep torch's threads)."""
    with single_thread():
        yield


@pytest.fixture(scope='session')
def tiny_checkpoint(demo_city, tmp_path_factory):
    """(checkpoints_dir, name, dataroot) of the tiny model."""
    if 'ckdir' not in _trained:
        ckdir = tmp_path_factory.mktemp('synth_checkpoints')
        with single_thread():
            train.main(tiny_args(demo_city, ckdir))
        _trained['ckdir'] = ckdir
    return _trained['ckdir'], NAME, demo_city


def val_labels(dataroot):
    """The demo's val labelIds files (128×64, twice the tiny model's size)."""
    folder = os.path.join(dataroot, 'gtFine', 'val')
    return sorted(os.path.join(d, f) for d, _, files in os.walk(folder) for f in files if f.endswith('_labelIds.png'))


def small_label(dataroot, size=(64, 32)):
    """The first val label map at the tiny model's size, as uint8 ids."""
    img = Image.open(val_labels(dataroot)[0]).resize(size, Image.Resampling.NEAREST)
    return np.asarray(img).astype(np.uint8)
