"""Options: SPADE's names and per-dataset defaults, the files they are saved to, clear errors."""
import json

import pytest
import torch

from conftest import NO_CHECKPOINTS, resolved, tiny_opt, train_opt
from models.pix2pix_model import Pix2PixModel
from options.test_options import TestOptions
from options.train_options import TrainOptions
from trainers.pix2pix_trainer import Pix2PixTrainer
from util.errors import UserError


def test_options_are_saved_as_text_and_json(tmp_path):
    options = TrainOptions()
    opt = options.resolve(options.parse(['--dataset_mode', 'coco', '--checkpoints_dir', str(tmp_path), '--name', 'x',
                                         '--ngf', '16', '--gpu_ids', '-1']))
    options.save(opt)
    saved = json.loads((tmp_path / 'x' / 'opt.json').read_text())
    assert saved['ngf'] == 16 and saved['label_nc'] == 182 and saved['netG'] == 'ulbp'
    assert 'ngf: 16\t[default: 64]' in (tmp_path / 'x' / 'opt.txt').read_text()
    assert opt.device == torch.device('cpu')


def test_bad_options_are_clear_errors():
    with pytest.raises(UserError, match='--netG foo'):
        train_opt('--dataset_mode', 'coco', '--netG', 'foo')
    with pytest.raises(UserError, match='--crop_size 100'):
        Pix2PixModel.from_options(train_opt('--dataset_mode', 'coco', '--crop_size', '100', '--load_size', '100'))
    with pytest.raises(UserError, match='--norm_G spectralmfadesyncbatch3x3'):
        train_opt('--dataset_mode', 'coco', '--netG', 'spade', '--norm_G', 'spectralmfadesyncbatch3x3')


def test_gpu_ids_aspect_ratio_and_nhidden_are_checked():
    assert tiny_opt('--gpu_ids', '-1').gpu_ids == [] and tiny_opt('--gpu_ids', '-1').device.type == 'cpu'
    with pytest.raises(UserError, match='--gpu_ids abc: comma-separated GPU numbers'):
        TrainOptions().parse(['--gpu_ids', 'abc'])  # (tiny_opt's own --gpu_ids -1 would win)
    for ratio in ('0', '-2', '200'):  # 200: a 64-pixel crop would leave a height of 0.32 -> 0 rows
        with pytest.raises(UserError, match=f'--aspect_ratio {float(ratio)}'):
            tiny_opt('--aspect_ratio', ratio)
    with pytest.raises(UserError, match='--nhidden 0: must be at least 1'):
        tiny_opt('--nhidden', '0')
    for name, value in (('print_freq', '0'), ('save_epoch_freq', '0'), ('num_D', '0'), ('nThreads', '-1')):
        with pytest.raises(UserError, match=f'--{name} {value}: must be at least'):
            tiny_opt(f'--{name}', value)


def test_cityscapes_defaults_are_spades():
    opt = TrainOptions().parse(['--dataset_mode', 'cityscapes', '--gpu_ids', '-1', '--checkpoints_dir', NO_CHECKPOINTS])
    assert (opt.num_upsampling_layers, opt.batchSize, opt.crop_size, opt.aspect_ratio) == ('more', 16, 512, 2.0)
    opt = train_opt('--dataset_mode', 'cityscapes', '--ngf', '1', '--ngf_lbp', '1')
    assert Pix2PixModel.from_options(opt).nets['G'].latent == (4, 8)


def test_lbp_options_are_checked():
    assert (tiny_opt().lbp_variant, tiny_opt().lbp_grad_width) == ('classic', 2.0)
    with pytest.raises(UserError, match='--lbp_grad_width 0.0: must be > 0'):
        tiny_opt('--lbp_grad_width', '0')
    with pytest.raises(UserError, match='--lbp_temperature was removed: .*--lbp_grad_width'):
        tiny_opt('--lbp_temperature', '0.08')
    with pytest.raises(UserError, match='--nhidden_lbp -1'):
        tiny_opt('--nhidden_lbp', '-1')
    with pytest.raises(SystemExit):  # argparse's own one-line message: invalid choice
        tiny_opt('--lbp_variant', 'uniform')


def test_demo_trains_on_the_bf16_fast_path_where_the_cpu_has_it(monkeypatch, capsys):
    from util import machine
    args = ['--gpu_ids', '-1', '--checkpoints_dir', NO_CHECKPOINTS]
    monkeypatch.setattr(machine, 'cpu_has_bf16', lambda: True)
    options = TrainOptions()
    opt = options.parse(args)
    assert (opt.amp, opt.channels_last) == ('auto', None) and capsys.readouterr().out == ''  # parsing only parses
    opt = options.resolve(opt)
    assert (opt.amp, opt.channels_last) == ('bf16', True) and '--amp bf16' in capsys.readouterr().out
    assert resolved(TrainOptions(), args + ['--amp', 'none']).amp == 'none'  # an explicit choice wins
    assert resolved(TrainOptions(), args + ['--dataset_mode', 'coco']).amp == 'none'  # the demo's default only
    monkeypatch.setattr(machine, 'cpu_has_bf16', lambda: False)
    opt = resolved(TrainOptions(), args)
    assert (opt.amp, opt.channels_last) == ('none', False)


def test_adam_betas_are_spades_for_each_schedule_and_given_ones_are_used():
    def betas(*args):
        opt = tiny_opt('--netG', 'spade', *args)
        trainer = Pix2PixTrainer(opt, Pix2PixModel.from_options(opt))
        return [group['betas'] for o in (trainer.optimizer_G, trainer.optimizer_D) for group in o.param_groups]
    assert betas() == [(0.0, 0.9)] * 2
    assert betas('--beta1', '0.5', '--beta2', '0.99') == [(0.5, 0.99)] * 2  # under TTUR too
    assert betas('--no_TTUR') == [(0.5, 0.999)] * 2
    assert betas('--no_TTUR', '--beta1', '0.1') == [(0.1, 0.999)] * 2


def test_removed_options_are_argparse_errors(capsys):
    # --output_nc (G always makes RGB), --model (one model) and --tf_log (always on; --no_tf_log stays)
    for option in (['--output_nc', '3'], ['--model', 'pix2pix'], ['--tf_log']):
        with pytest.raises(SystemExit):
            tiny_opt(*option)
        assert f'unrecognized arguments: {option[0]}' in capsys.readouterr().err
    assert tiny_opt().no_tf_log is False and tiny_opt('--no_tf_log').no_tf_log is True


def test_parsing_reads_no_file_and_probes_no_machine(monkeypatch, capsys):
    import options.base_options as base
    import models.checkpoint as ckpt
    from util import machine

    def probed(*args):
        raise AssertionError('parse asked the machine or the file system')
    for module, name in ((machine, 'cpu_has_bf16'), (machine, 'device'), (base, 'hub_checkpoint_path'),
                         (base, 'TrainedRun'), (ckpt, 'read_opt_json'), (ckpt.durable, 'read')):
        monkeypatch.setattr(module, name, probed)
    for options in (TrainOptions(), TestOptions()):  # the demo: its bf16 and VGG defaults wait for resolve
        opt = options.parse(['--name', 'x', '--checkpoints_dir', NO_CHECKPOINTS, '--load_from_opt_file'])
        assert not hasattr(opt, 'device') and opt.amp in ('auto', 'none')
    assert capsys.readouterr().out == ''
