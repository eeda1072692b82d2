"""--label_convs: auto runs the label-map convolutions as lookups on the CPU and as
dense convs on CUDA; it is not an architecture option, so a checkpoint trained with one loads and
draws the same images with the other."""
import os
import sys

import pytest
import torch

import train
import models.checkpoint as ckpt
from conftest import random_batch, resolved, tiny_opt
from models.config import ModelConfig
from models.pix2pix_model import Pix2PixModel
from models.networks import label_convs
from models.networks.label_conv import LabelConv2d
from options.test_options import TestOptions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny(dataroot, ckdir, name, *extra):
    return ['--dataset_mode', 'cityscapes', '--dataroot', dataroot, '--checkpoints_dir', str(ckdir), '--name', name,
            '--crop_size', '64', '--load_size', '64', '--num_upsampling_layers', 'normal', '--ngf', '4', '--ndf', '4',
            '--nhidden', '8', '--batchSize', '2', '--nThreads', '0', '--gpu_ids', '-1', '--no_vgg_loss',
            '--no_tf_log', '--display_freq', '1000', '--seed', '5', *extra]


def modes(net):
    return {'dense' if m.min_pixels == float('inf') else 'lookup' for m in net.modules() if isinstance(m, LabelConv2d)}


@pytest.mark.parametrize('choice, device, expected', [
    ('auto', 'cpu', 'lookup'), ('auto', 'cuda', 'dense'), ('lookup', 'cuda', 'lookup'), ('dense', 'cpu', 'dense')])
def test_label_convs_auto_picks_lookups_on_the_cpu_and_dense_convs_on_cuda(choice, device, expected):
    opt = tiny_opt('--label_convs', choice)
    opt.device = torch.device(device)  # the networks are only built, never run, so no GPU is needed
    assert label_convs(opt) == expected
    model = Pix2PixModel.from_options(opt)
    for name, net in model.networks().items():
        assert modes(net) == {expected}, name
    assert LabelConv2d.min_pixels == 512  # the class default is left alone


def test_the_old_switch_is_gone_and_label_convs_is_not_an_architecture_option():
    with pytest.raises(SystemExit):  # argparse: unrecognized arguments
        tiny_opt('--dense_label_convs')
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    import benchmark
    with pytest.raises(SystemExit):
        benchmark.parse_args(['--dense_label_convs'])
    assert benchmark.parse_args(['--label_convs', 'dense']).label_convs == 'dense'
    assert 'label_convs' not in ModelConfig.names()


def test_a_checkpoint_trained_with_lookups_gives_the_same_images_with_dense_convs(demo_city, tmp_path):
    train.main(tiny(demo_city, tmp_path, 'lk', '--max_iters', '2', '--label_convs', 'lookup'))
    assert 'label_convs' not in torch.load(tmp_path / 'lk' / 'latest.pth', weights_only=True)['config']
    images = {}
    for mode in ('lookup', 'dense'):
        options = TestOptions()
        opt = resolved(options, ['--name', 'lk', '--checkpoints_dir', str(tmp_path), '--gpu_ids', '-1',
                                 '--label_convs', mode, '--dataroot', demo_city])
        model = ckpt.load_networks(Pix2PixModel.from_options(opt, options.run.config), options.run)
        assert modes(model.networks()['G']) == {mode}
        with torch.no_grad():
            images[mode] = model(random_batch(opt, n=2, seed=1), mode='inference')['synthesized_image']
    assert images['lookup'].shape == (2, 3, 32, 64)
    assert (images['lookup'] - images['dense']).abs().max() <= 1e-4
