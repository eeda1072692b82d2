"""What several test files share: the tiny option sets, a random batch in the data-sample format,
and small generated datasets, made once per test session. Test files import the helpers
(`from conftest import tiny_opt`) and name the fixtures as arguments."""
import os

import pytest

import data
from data.demo_scenes import make_demo
from options.train_options import TrainOptions

# Test options take defaults from a trained experiment's checkpoint: point them at none.
NO_CHECKPOINTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'no_checkpoints')
# Narrow networks on the CPU, without the VGG weights: the model tests' option set.
SMALL = ['--ngf', '4', '--ndf', '4', '--ngf_lbp', '4', '--gpu_ids', '-1', '--batchSize', '1',
         '--no_vgg_loss', '--checkpoints_dir', NO_CHECKPOINTS]


def resolved(options, args):
    """options.parse(args), then options.resolve(): the options train.py and test.py run with."""
    return options.resolve(options.parse([str(a) for a in args]))


def train_opt(*args):
    return resolved(TrainOptions(), list(args) + SMALL)


def tiny_opt(*args):
    """64×32 images with 8 labels + don't care + instance edges: the fast option set."""
    return train_opt('--dataset_mode', 'cityscapes', '--label_nc', '8', '--contain_dontcare_label',
                     '--crop_size', '64', '--load_size', '64', '--num_upsampling_layers', 'normal', *args)


random_batch = data.random_batch  # (n=1, seed=0): a batch in the loaders' format, random content


@pytest.fixture(scope='session')
def demo_city(tmp_path_factory):
    """Demo scenes in the Cityscapes layout: 6 train and 2 val at 128×64."""
    root = tmp_path_factory.mktemp('city')
    make_demo(str(root), 'cityscapes', num_train=6, num_val=2, width=128, height=64, seed=3)
    return str(root)


@pytest.fixture(scope='session')
def demo_roots(tmp_path_factory):
    """Demo scenes in each dataset's layout (<base>/cityscapes, ade20k, coco): 6 train and 2 val."""
    base = tmp_path_factory.mktemp('demo')
    sizes = {'cityscapes': (64, 32), 'ade20k': (32, 32), 'coco': (32, 32)}
    for fmt, (w, h) in sizes.items():
        make_demo(str(base / fmt), fmt, num_train=6, num_val=2, width=w, height=h, seed=1)
    return base
