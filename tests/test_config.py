"""The model's config (models/config.py): one record that builds the networks, stored whole in every
checkpoint, so that a .pth alone serves generate.py, the Synthesizer and test.py; older checkpoints
still load; opt.json is written durably by one module."""
import argparse
import dataclasses
import importlib.util
import json
import os
import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import generate
import models.checkpoint as ckpt
import util.checkpoint as durable
from conftest import NO_CHECKPOINTS, tiny_opt
from inference import Synthesizer
from models.config import DEFAULTS, FORMAT_VERSION, ModelConfig
from models.pix2pix_model import Pix2PixModel
from options.base_options import OptionParser
from options.train_options import TrainOptions
from synth_helpers import one_thread, small_label, tiny_checkpoint, val_labels  # noqa: F401 (fixtures)
from util.errors import UserError, exit_on_user_error

pytestmark = pytest.mark.usefixtures('one_thread')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD = os.path.join(ROOT, 'tests', 'data', 'old_checkpoint')

spec = importlib.util.spec_from_file_location('test_script', os.path.join(ROOT, 'test.py'))
test_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(test_script)


def pth_alone(tiny_checkpoint, tmp_path):
    """A copy of the tiny run's folder holding only its latest.pth (no opt.json, opt.txt, logs)."""
    ckdir, name, _ = tiny_checkpoint
    assert (ckdir / name / 'opt.json').is_file()
    alone = tmp_path / 'alone'
    alone.mkdir()
    shutil.copy(ckdir / name / 'latest.pth', alone / 'latest.pth')
    return alone


def one_error_line(capsys, main, args):
    """main(args) as the command line runs it -> its one stderr line (it must exit with status 2)."""
    with pytest.raises(SystemExit) as stop:
        exit_on_user_error(lambda: main(args))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('error: '), err
    return err


# ---- the record ----

def test_the_config_round_trips_through_a_checkpoint_and_json(tmp_path):
    opt = tiny_opt('--use_vae', '--nhidden_lbp', '0', '--lbp_variant', 'skimage', '--no_instance', '--z_dim', '16',
                   '--norm_E', 'instance', '--num_D', '1', '--lbp_grad_width', '3')
    config = ModelConfig.from_options(opt)
    assert (config.z_dim, config.nhidden_lbp, config.lbp_variant, config.norm_E, config.num_D) == \
        (16, 0, 'skimage', 'instance', 1)
    assert (config.label_nc, config.contain_dontcare_label, config.no_instance, config.dataset_mode) == \
        (8, True, True, 'cityscapes')
    stored = config.to_dict()
    assert stored['format_version'] == FORMAT_VERSION
    assert {type(v) for v in stored.values()} <= {str, int, float, bool, type(None)}  # builtins only
    durable.save(str(tmp_path / 'c.pth'), {'config': stored})
    back = torch.load(tmp_path / 'c.pth', weights_only=True)['config']
    assert ModelConfig.from_dict(back, 'c.pth') == config
    assert ModelConfig.from_dict(json.loads(json.dumps(stored)), 'config.json') == config
    # train.py stores it whole: what the .pth holds builds the same networks
    model = Pix2PixModel.from_options(opt)
    rebuilt = Pix2PixModel(ModelConfig.from_dict(back, 'c.pth'))
    assert set(rebuilt.networks()) == {'G', 'GL', 'E'}
    for name, net in rebuilt.networks().items():
        want = model.networks()[name].state_dict()
        assert {k: v.shape for k, v in net.state_dict().items()} == {k: v.shape for k, v in want.items()}, name


def test_every_default_is_the_configs():
    parser = OptionParser([])
    TrainOptions().initialize(parser)
    Pix2PixModel.modify_commandline_options(parser, True)
    options = {action.dest for action in parser._actions}
    assert set(ModelConfig.names()) <= options, set(ModelConfig.names()) - options
    for name in ModelConfig.names():
        assert parser.get_default(name) == getattr(DEFAULTS, name), name
    # and the networks' classes have no default of their own for these settings: the factory passes each
    from models.networks.encoder import ConvEncoder
    with pytest.raises(TypeError):
        ConvEncoder()


def test_semantic_nc_is_computed_in_one_place():
    sums = re.compile(r'semantic_nc\s*=[^=]|int\(not [\w.]*no_instance\)|label_nc \+ int\(')
    found = []
    for folder, _, files in os.walk(ROOT):
        if any(part in folder for part in ('tests', '.git', 'datasets', 'checkpoints', 'docs')):
            continue
        for f in files:
            if f.endswith('.py'):
                path = os.path.join(folder, f)
                with open(path, encoding='utf-8') as src:
                    found += [os.path.relpath(path, ROOT) for line in src if sums.search(line)]
    # data/ counts the ids of random test labels itself: data cannot import models (tests/test_layers.py)
    assert sorted(set(found)) == ['data/__init__.py', 'models/config.py']
    # every network's label input is the config's semantic_nc
    for extra in ([], ['--no_instance'], ['--netG', 'pix2pixhd']):
        model = Pix2PixModel.from_options(tiny_opt(*extra))
        n = model.config.semantic_nc
        assert n == 8 + 1 + int('--no_instance' not in extra)
        first = next(m for m in model.nets['G'].modules() if isinstance(m, torch.nn.Conv2d))
        assert first.in_channels == n
        if model.config.uses_lbp:
            assert model.nets['GL'].stem[0].in_channels == n
            assert model.nets['DL'].scales[0].layers[0][0].in_channels == n + 1
        assert model.nets['D'].scales[0].layers[0][0].in_channels == n + 3


# ---- a .pth alone ----

def test_a_pth_alone_generates_the_same_pixels_as_with_its_opt_json(tiny_checkpoint, tmp_path, capsys):
    ckdir, name, dataroot = tiny_checkpoint
    alone = pth_alone(tiny_checkpoint, tmp_path)
    with_json, without = Synthesizer(ckdir / name, device='cpu'), Synthesizer(alone, device='cpu')
    assert without.run.opt_file is None and without.config == with_json.config
    ids = with_json.read_labels(val_labels(dataroot)[0])
    assert (without.read_labels(val_labels(dataroot)[0]) == ids).all()  # the dataset's ids, from the .pth
    a, b = with_json(ids, seed=3), without(ids, seed=3)
    assert a.image.shape == (32, 64, 3) and np.array_equal(a.image, b.image) and np.array_equal(a.lbp, b.lbp)
    outputs = {}
    for folder in (ckdir / name, alone):
        out = tmp_path / f'out_{folder.name}'
        generate.main(['--name', folder.name, '--checkpoints_dir', str(folder.parent), '--gpu_ids', '-1',
                       '--labels', *val_labels(dataroot), '--out', str(out), '--seed', '1'])
        outputs[folder.name] = {f: np.asarray(Image.open(out / f)) for f in sorted(os.listdir(out))}
    got, want = outputs['alone'], outputs[name]
    assert len(want) == 4 and got.keys() == want.keys()  # image and LBP map of each of the 2 label maps
    assert all(np.array_equal(got[f], want[f]) for f in want)


def test_test_py_needs_only_the_pth_and_the_data(tiny_checkpoint, tmp_path):
    ckdir, name, dataroot = tiny_checkpoint
    alone = pth_alone(tiny_checkpoint, tmp_path)
    images = {}
    for folder in (ckdir / name, alone):
        results = tmp_path / f'results_{folder.name}'
        test_script.main(['--name', folder.name, '--checkpoints_dir', str(folder.parent), '--dataroot', dataroot,
                          '--gpu_ids', '-1', '--nThreads', '0', '--results_dir', str(results)])
        out = results / folder.name / 'val_latest' / 'images' / 'synthesized_image'
        images[folder.name] = {f: np.asarray(Image.open(out / f)) for f in sorted(os.listdir(out))}
    assert len(images[name]) == 2 and images['alone'].keys() == images[name].keys()
    assert all(np.array_equal(images['alone'][f], images[name][f]) for f in images[name])


def test_a_newer_or_foreign_config_is_one_line_naming_the_file(tiny_checkpoint, tmp_path, capsys):
    alone = pth_alone(tiny_checkpoint, tmp_path)
    path = alone / 'latest.pth'
    state = torch.load(path, weights_only=True)
    good = dict(state['config'])
    args = ['--name', 'alone', '--checkpoints_dir', str(tmp_path), '--gpu_ids', '-1', '--labels', str(path)]
    state['config'] = {**good, 'format_version': FORMAT_VERSION + 1}
    torch.save(state, path)
    err = one_error_line(capsys, generate.main, args)
    assert str(path) in err and f'format version {FORMAT_VERSION + 1}, newer' in err
    state['config'] = {**good, 'n_heads': 8}  # another model's field
    torch.save(state, path)
    err = one_error_line(capsys, generate.main, args)
    assert str(path) in err and 'fields this code does not know (n_heads)' in err
    for foreign, wanted in (({'ngf': 4}, 'no ULBPGAN model config'), ([1, 2], 'no ULBPGAN model config'),
                            ({**good, 'ngf': '4'}, "field ngf is '4', not int"),
                            ({**good, 'use_vae': 1}, 'field use_vae is 1, not bool')):
        with pytest.raises(UserError, match=re.escape(wanted)):
            ModelConfig.from_dict(foreign, 'x.pth')


# ---- older checkpoints ----

def test_an_old_checkpoint_reads_as_a_config_with_and_without_its_opt_json(tmp_path):
    run = ckpt.TrainedRun(OLD)
    assert 'config' not in run.state and 'norm_E' not in run.state['options']
    config = run.config
    assert (config.ngf, config.ndf, config.nhidden, config.num_D, config.crop_size, config.aspect_ratio) == \
        (1, 2, 4, 1, 64, 2.0)
    assert (config.label_nc, config.semantic_nc, config.dataset_mode) == (35, 36, 'cityscapes')
    assert config.norm_E == 'spectralinstance'  # from its opt.json (the .pth did not store it)
    assert config.lbp_grad_colour == 'luminance'  # the only gradient before the option
    assert 'lbp_grad_colour' not in run.recorded  # so a resume is not held to it
    shutil.copy(os.path.join(OLD, 'latest.pth'), tmp_path / 'latest.pth')
    alone = ckpt.TrainedRun(tmp_path)
    assert alone.opt_file is None and alone.config == config
    ids = np.random.default_rng(0).integers(0, 35, (32, 64))
    a = Synthesizer(OLD, device='cpu')(ids).image
    assert np.array_equal(a, Synthesizer(tmp_path, device='cpu')(ids).image)


# ---- opt.json ----

def test_opt_json_is_written_whole_or_not_at_all_by_one_module(tmp_path, monkeypatch):
    options = TrainOptions()
    args = ['--checkpoints_dir', str(tmp_path), '--name', 'x', '--gpu_ids', '-1']
    options.save(options.resolve(options.parse(args)))
    before = (tmp_path / 'x' / 'opt.json').read_text()
    assert json.loads(before)['name'] == 'x' and 'semantic_nc' not in json.loads(before)  # (the config's)

    def power_cut(fd):
        raise OSError('power cut')
    monkeypatch.setattr(durable.os, 'fsync', power_cut)
    with pytest.raises(OSError, match='power cut'):
        options.save(options.resolve(options.parse(args + ['--ngf', '8'])))
    assert (tmp_path / 'x' / 'opt.json').read_text() == before
    assert sorted(os.listdir(tmp_path / 'x')) == ['opt.json', 'opt.txt']  # no .tmp left behind
    # the one module that names the file (scripts/ keep their own records of finished runs)
    named = []
    for layer in ('util', 'data', 'models', 'options', 'trainers', 'evaluation', 'inference', '.'):
        folder = os.path.join(ROOT, layer)
        for f in sorted(os.listdir(folder)):
            if f.endswith('.py'):
                with open(os.path.join(folder, f), encoding='utf-8') as src:
                    if re.search(r"""(['"])opt\.json\1""", src.read()):
                        named.append(os.path.relpath(os.path.join(folder, f), ROOT))
    assert named == ['models/checkpoint.py']


def test_parsing_and_the_config_agree_on_the_dataset_defaults():
    opt = TrainOptions().parse(['--dataset_mode', 'camvid', '--checkpoints_dir', NO_CHECKPOINTS])
    config = ModelConfig.from_options(opt)
    assert (config.label_nc, config.contain_dontcare_label, config.no_instance, config.semantic_nc) == \
        (opt.label_nc, opt.contain_dontcare_label, opt.no_instance, 12)
    assert not hasattr(opt, 'semantic_nc')  # the options hold no derived copy of it
    # a field this command line has no option for comes from base (a run's config)
    assert ModelConfig.from_options(argparse.Namespace(ngf=3), base=config) == dataclasses.replace(config, ngf=3)
