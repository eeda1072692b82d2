"""Checkpoints stay loadable when code is renamed or moved: the networks' state_dict keys (names,
shapes and order, which optimizer states rely on) of every main configuration match a list written
by an earlier version of the code, and a training checkpoint written by that version resumes.

tests/data/network_keys.json and tests/data/old_checkpoint/ (latest.pth after one training
iteration, and its opt.json) were written by the code before its classes and modules were renamed
(SPADEGenerator was ULBPGenerator, AdaptiveResnetBlock was MFADEResnetBlock). Never regenerate
them: they stand for the checkpoints users already have.
"""
import importlib.util
import json
import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import train
from conftest import tiny_opt
from models.pix2pix_model import Pix2PixModel
from inference import Synthesizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEYS = os.path.join(HERE, 'data', 'network_keys.json')
OLD = os.path.join(HERE, 'data', 'old_checkpoint')
# The options tests/data/old_checkpoint/latest.pth was trained with (on conftest's demo_city data).
OLD_OPTIONS = ['--dataset_mode', 'cityscapes', '--name', 'old', '--crop_size', '64', '--load_size', '64',
               '--num_upsampling_layers', 'normal', '--ngf', '1', '--ndf', '2', '--nhidden', '4', '--num_D', '1',
               '--batchSize', '2', '--nThreads', '0', '--gpu_ids', '-1', '--no_vgg_loss', '--no_tf_log', '--no_html',
               '--display_freq', '1000', '--niter', '3', '--seed', '5']

spec = importlib.util.spec_from_file_location('test_script', os.path.join(ROOT, 'test.py'))
test_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(test_script)


def keys_and_shapes(model):
    return {net: {k: 'x'.join(map(str, v.shape)) for k, v in m.state_dict().items()}
            for net, m in model.networks().items()}


def test_state_dict_keys_of_every_configuration_are_the_committed_ones():
    with open(KEYS) as f:
        expected = json.load(f)
    assert set(expected['configurations']) == {'ulbp', 'spade', 'pix2pixhd', 'use_vae', 'nhidden_lbp_0'}
    for name, extra in expected['configurations'].items():
        got = keys_and_shapes(Pix2PixModel.from_options(tiny_opt('--nhidden', '8', *extra.split())))
        want = expected['networks'][name]
        assert list(got) == list(want), name
        for net in want:
            assert list(got[net].items()) == list(want[net].items()), (name, net)  # names, shapes, order


@pytest.fixture
def old_run(tmp_path):
    shutil.copytree(OLD, tmp_path / 'old')
    return tmp_path


def test_a_checkpoint_written_before_the_renames_resumes(demo_city, old_run):
    before = torch.load(old_run / 'old' / 'latest.pth', weights_only=True)
    assert (before['epoch'], before['epoch_iter'], before['trainer']['iteration']) == (1, 1, 1)
    train.main(OLD_OPTIONS + ['--dataroot', demo_city, '--checkpoints_dir', str(old_run), '--continue_train',
                              '--max_iters', '2'])
    after = torch.load(old_run / 'old' / 'latest.pth', weights_only=True)
    assert (after['epoch'], after['epoch_iter'], after['trainer']['iteration']) == (1, 2, 2)
    assert after['networks'].keys() == before['networks'].keys() == {'G', 'GL', 'D', 'DL'}
    moved = 0
    for net, state in before['networks'].items():
        assert list(after['networks'][net]) == list(state), net
        moved += sum(not torch.equal(after['networks'][net][k], v) for k, v in state.items())
    assert moved > 100  # one more step was trained from the old weights
    for which in ('optimizer_G', 'optimizer_D'):  # Adam's state went on from the old one
        assert after['trainer'][which]['state'][0]['step'].item() == 2


def test_a_checkpoint_written_before_the_renames_loads_for_test_py(demo_city, old_run):
    synth = Synthesizer(str(old_run / 'old'), device='cpu')  # test.py's options and loading
    saved = torch.load(old_run / 'old' / 'latest.pth', weights_only=True)['networks']
    for net, module in synth.model.networks().items():
        for k, v in module.state_dict().items():
            assert torch.equal(v, saved[net][k]), (net, k)
    results = old_run / 'results'
    for extra in ([], ['--load_from_opt_file']):  # the old opt.json holds options that no longer exist
        test_script.main(['--name', 'old', '--checkpoints_dir', str(old_run), '--dataroot', demo_city,
                          '--gpu_ids', '-1', '--nThreads', '0', '--results_dir', str(results), '--how_many', '1',
                          *extra])
        folder = results / 'old' / 'val_latest' / 'images' / 'synthesized_image'
        images = [np.asarray(Image.open(folder / f)) for f in os.listdir(folder)]
        assert len(images) == 1 and images[0].shape == (32, 64, 3)
        shutil.rmtree(results)
