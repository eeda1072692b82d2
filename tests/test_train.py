"""train.py / test.py end to end on a tiny generated Cityscapes-format dataset."""
import csv
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

import train
from models.config import ModelConfig
import util.checkpoint as durable
from conftest import resolved
from options.test_options import TestOptions
from util.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# test.py by path: `import test` could find the standard library's test package instead.
spec = importlib.util.spec_from_file_location('test_script', os.path.join(ROOT, 'test.py'))
test_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(test_script)


@pytest.fixture(scope='session')
def dataroot(demo_city):
    return demo_city


def tiny(dataroot, ckdir, name='run', *extra):
    return ['--dataset_mode', 'cityscapes', '--dataroot', dataroot, '--checkpoints_dir', str(ckdir),
            '--name', name, '--crop_size', '64', '--load_size', '64', '--num_upsampling_layers', 'normal', '--ngf', '4', '--ndf', '4',
            '--nhidden', '8', '--batchSize', '2', '--nThreads', '0', '--gpu_ids', '-1', '--no_vgg_loss',
            '--no_tf_log', '--display_freq', '1000', '--niter', '3', '--seed', '5', *extra]


def with_tensorboard(args):
    """tiny()'s arguments without its --no_tf_log."""
    return [a for a in args if a != '--no_tf_log']


def weights(path):
    state = torch.load(path, weights_only=True)
    return state, {f'{k}.{n}': v for k, net in state['networks'].items() for n, v in net.items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.slow
def test_resume_continues_exactly(dataroot, tmp_path):
    # 3 batches per epoch: 2 + 2 resumes mid-epoch and then crosses into epoch 2.
    train.main(tiny(dataroot, tmp_path, 'straight', '--max_iters', '4', '--use_vae'))
    train.main(tiny(dataroot, tmp_path, 'resumed', '--max_iters', '2', '--use_vae'))
    first, _ = weights(tmp_path / 'resumed' / 'latest.pth')
    assert (first['epoch'], first['epoch_iter'], first['trainer']['iteration']) == (1, 2, 2)
    train.main(tiny(dataroot, tmp_path, 'resumed', '--max_iters', '4', '--use_vae', '--continue_train'))
    straight, ws = weights(tmp_path / 'straight' / 'latest.pth')
    resumed, wr = weights(tmp_path / 'resumed' / 'latest.pth')
    assert resumed['trainer']['iteration'] == 4 and resumed['epoch'] == 2
    assert_same(ws, wr)
    for opt in ('optimizer_G', 'optimizer_D'):
        a, b = straight['trainer'][opt]['state'], resumed['trainer'][opt]['state']
        assert all(torch.equal(a[i]['exp_avg'], b[i]['exp_avg']) for i in a)
    assert torch.equal(straight['rng']['torch'], resumed['rng']['torch'])


def test_same_seed_same_weights_and_logs(dataroot, tmp_path):
    for name in ('a', 'b'):
        train.main(with_tensorboard(tiny(dataroot, tmp_path, name, '--max_iters', '2', '--display_freq', '1')))
    assert_same(weights(tmp_path / 'a' / 'latest.pth')[1], weights(tmp_path / 'b' / 'latest.pth')[1])
    run = tmp_path / 'a'
    assert any(f.startswith('events.out.tfevents') for f in os.listdir(run / 'logs'))
    assert 'GAN_Feat' in (run / 'loss_log.txt').read_text()
    page = (run / 'web' / 'index.html').read_text()
    for kind in ('input_label', 'synthesized_image', 'synthesized_lbp', 'real_image', 'real_lbp'):
        assert f'iter00000002_{kind}.png' in page
        assert (run / 'web' / 'images' / f'epoch001_iter00000002_{kind}.png').is_file()
    assert (run / 'opt.json').is_file() and (run / 'opt.txt').is_file()


def test_epoch_checkpoints(dataroot, tmp_path):
    train.main(tiny(dataroot, tmp_path, 'sched', '--niter', '1', '--niter_decay', '2', '--save_epoch_freq', '1',
                    '--max_dataset_size', '2', '--save_full_snapshots'))  # one batch per epoch; snapshots with Adam
    for which in ('1', '2', '3', 'latest'):
        assert (tmp_path / 'sched' / f'{which}.pth').is_file()


def spade_rates(lr, niter, niter_decay, epochs):
    """The rate each epoch trains at in SPADE: its update_learning_rate(epoch) runs at the end of
    every epoch and, past niter, subtracts lr / niter_decay."""
    rates, current = [], lr
    for epoch in range(1, epochs + 1):
        rates.append(current)
        if epoch > niter:
            current -= lr / niter_decay
    return rates


def eval_rows(folder):
    with open(folder / 'eval_log.csv') as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('ttur', [True, False])
def test_lr_schedule_is_spades_across_a_resume(dataroot, tmp_path, ttur):
    # One batch per epoch, niter 2 + niter_decay 3; --eval_freq 1 logs the rates of every iteration.
    # Stopped after epoch 3 and resumed: the rates are SPADE's, epoch by epoch.
    args = ['--niter', '2', '--niter_decay', '3', '--max_dataset_size', '2', '--eval_freq', '1', '--eval_num', '1',
            '--save_latest_freq', '1'] + ([] if ttur else ['--no_TTUR'])
    train.main(tiny(dataroot, tmp_path, 's', '--max_iters', '3', *args))
    train.main(tiny(dataroot, tmp_path, 's', '--continue_train', *args))
    rows = eval_rows(tmp_path / 's')
    assert [int(r['iteration']) for r in rows] == [1, 2, 3, 4, 5] == [int(r['epoch']) for r in rows]
    expected = spade_rates(0.0002, 2, 3, 5)  # 2e-4, 2e-4, 2e-4, 1.33e-4, 0.67e-4: the last is lr / niter_decay
    g, d = (0.5, 2.0) if ttur else (1.0, 1.0)
    assert [float(r['lr_G']) for r in rows] == pytest.approx([g * x for x in expected])
    assert [float(r['lr_D']) for r in rows] == pytest.approx([d * x for x in expected])
    betas = torch.load(tmp_path / 's' / 'latest.pth', weights_only=True)['trainer']['optimizer_G']['param_groups'][0]
    assert tuple(betas['betas']) == ((0.0, 0.9) if ttur else (0.5, 0.999))  # SPADE's --no_TTUR defaults


def test_eval_freq_logs_metrics_and_resume_drops_rows_it_retrains(dataroot, tmp_path):
    from evaluation.segmenters import small_checkpoint
    from evaluation.segmenters.small import SmallUNet
    seg = tmp_path / 'seg.pth'
    torch.save(small_checkpoint(SmallUNet(19), 19, 'cityscapes'), seg)
    args = ['--eval_freq', '2', '--eval_num', '2', '--eval_seg_weights', str(seg)]
    train.main(with_tensorboard(tiny(dataroot, tmp_path, 'e', '--max_iters', '5', *args)))
    rows = eval_rows(tmp_path / 'e')
    assert [int(r['iteration']) for r in rows] == [2, 4, 5]  # every 2, and at --max_iters
    for r in rows:
        assert 0 < float(r['lbp_distance']) < 1 and 0 <= float(r['lbp_map_distance']) < 1
        assert 0 < float(r['texture_js']) <= 1 and 0 < float(r['texture_js_riu2']) <= 1
        assert 0 <= float(r['miou']) <= 1 and 0 <= float(r['accuracy']) <= 1
        assert float(r['fid_seg']) >= 0 and r['kid_seg'] != ''
    # a row logged after the checkpoint a run resumes from is dropped, then logged again
    with open(tmp_path / 'e' / 'eval_log.csv', 'a') as f:
        f.write('6,2,0,0,0.5,0.5,0.5,0.5,0,0,0,0,0\n')
    per_class = json.loads((tmp_path / 'e' / 'eval_per_class.json').read_text())
    assert list(per_class) == ['2', '4', '5'] and per_class['5']['texture'] and per_class['5']['iou']
    (tmp_path / 'e' / 'eval_per_class.json').write_text(json.dumps({**per_class, '6': 'stale'}))
    train.main(with_tensorboard(tiny(dataroot, tmp_path, 'e', '--max_iters', '6', '--continue_train', *args)))
    rows = eval_rows(tmp_path / 'e')
    assert [int(r['iteration']) for r in rows] == [2, 4, 5, 6] and float(rows[-1]['lbp_distance']) != 0.5
    per_class = json.loads((tmp_path / 'e' / 'eval_per_class.json').read_text())
    assert list(per_class) == ['2', '4', '5', '6'] and per_class['6'] != 'stale'  # dropped, then logged again
    events = [f for f in os.listdir(tmp_path / 'e' / 'logs') if f.startswith('events')]
    assert events


def test_mismatched_options_on_resume_are_a_clear_error(dataroot, tmp_path):
    train.main(tiny(dataroot, tmp_path, 'm', '--max_iters', '1'))
    with pytest.raises(UserError, match=r'trained with --netG ulbp \(now spade\)'):
        train.main(tiny(dataroot, tmp_path, 'm', '--max_iters', '2', '--continue_train', '--netG', 'spade'))
    # test.py takes the checkpoint's options, but one passed explicitly must fit
    with pytest.raises(UserError, match=r'trained with --ngf 4 \(now 8\); leave these options out'):
        test_script.main(['--dataroot', dataroot, '--checkpoints_dir', str(tmp_path), '--name', 'm', '--ngf', '8',
                          '--gpu_ids', '-1'])


def test_a_refused_resume_keeps_opt_json_and_a_misfit_checkpoint_is_one_line(dataroot, tmp_path):
    train.main(tiny(dataroot, tmp_path, 'k', '--max_iters', '1'))
    saved = (tmp_path / 'k' / 'opt.json').read_text()
    with pytest.raises(UserError, match=r'trained with --ngf 4 \(now 8\)'):
        train.main(tiny(dataroot, tmp_path, 'k', '--max_iters', '2', '--continue_train', '--ngf', '8'))
    assert (tmp_path / 'k' / 'opt.json').read_text() == saved  # so --load_from_opt_file still gives --ngf 4
    latest = tmp_path / 'k' / 'latest.pth'
    state = torch.load(latest, weights_only=True)
    state['networks']['G'] = dict(list(state['networks']['G'].items())[:5])  # weights that do not fit
    torch.save(state, latest)
    with pytest.raises(UserError, match=r'latest.pth: its networks do not fit these options \(Missing key'):
        test_script.main(['--dataroot', dataroot, '--checkpoints_dir', str(tmp_path), '--name', 'k',
                          '--gpu_ids', '-1', '--nThreads', '0', '--results_dir', str(tmp_path / 'res')])


def test_non_finite_loss_stops_without_corrupting_the_checkpoint(dataroot, tmp_path, monkeypatch):
    train.main(tiny(dataroot, tmp_path, 'nan', '--max_iters', '1'))
    before = weights(tmp_path / 'nan' / 'latest.pth')[1]
    from models.pix2pix_model import Pix2PixModel
    real = Pix2PixModel.generator_losses

    def poisoned(self, data):
        losses, fake = real(self, data)
        losses['LBP_L1'] = losses['LBP_L1'] * float('nan')
        return losses, fake
    monkeypatch.setattr(Pix2PixModel, 'generator_losses', poisoned)
    with pytest.raises(UserError, match=r'iteration 2: loss LBP_L1 is nan'):
        train.main(tiny(dataroot, tmp_path, 'nan', '--max_iters', '3', '--continue_train', '--save_latest_freq', '1'))
    assert_same(before, weights(tmp_path / 'nan' / 'latest.pth')[1])


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / 'x' / 'latest.pth'
    durable.save(str(path), {'v': torch.tensor(1)})

    def dies_halfway(obj, f):
        f.write(b'partial')
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, 'save', dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        durable.save(str(path), {'v': torch.tensor(2)})
    assert torch.load(path, weights_only=True)['v'].item() == 1
    assert os.listdir(path.parent) == ['latest.pth']  # no half-written .tmp left behind


def test_save_flushes_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    path = tmp_path / 'latest.pth'
    durable.save(str(path), {'v': torch.tensor(1)})
    synced, real_fsync = [], os.fsync

    def recording_fsync(fd):
        target = os.readlink(f'/proc/self/fd/{fd}')
        old = torch.load(path, weights_only=True)['v'].item()  # what `latest` holds at this moment
        synced.append((target, old))
        real_fsync(fd)
    monkeypatch.setattr(os, 'fsync', recording_fsync)
    durable.save(str(path), {'v': torch.tensor(2)})
    assert synced == [(str(path) + '.tmp', 1), (str(tmp_path), 2)]


@pytest.mark.slow
@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_a_signal_to_the_whole_job_saves_latest_and_exits_cleanly(dataroot, tmp_path, sig):
    # as Ctrl-C or a cluster's scancel deliver it: to the loader worker too, which must leave it to train.py
    proc = subprocess.Popen([sys.executable, 'train.py', *tiny(dataroot, tmp_path, 'sig', '--niter', '1000',
                                                              '--print_freq', '1', '--nThreads', '1')],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    log = tmp_path / 'sig' / 'loss_log.txt'
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or 'iters: 2,' not in log.read_text()):
        time.sleep(0.2)
    os.killpg(proc.pid, sig)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert 'stopped by signal' in out and 'Traceback' not in out
    state = torch.load(tmp_path / 'sig' / 'latest.pth', weights_only=True)
    assert state['trainer']['iteration'] >= 2


class DiesOnSignalAtItem2(torch.utils.data.Dataset):
    """A worker that receives the job's SIGTERM while reading item 2."""
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return i


@pytest.mark.parametrize('requested', [True, False])
def test_workers_ended_by_the_jobs_signal_end_the_epoch_only_when_a_stop_was_requested(requested):
    # the main process, waiting for a batch, finds the worker gone: the signal's stop, or an error when none came
    from types import SimpleNamespace
    from data import leave_signals_to_the_main_process
    loader = torch.utils.data.DataLoader(DiesOnSignalAtItem2(), num_workers=1,
                                         worker_init_fn=leave_signals_to_the_main_process)
    loop = SimpleNamespace(stop=SimpleNamespace(requested=requested))
    if requested:
        assert [int(b) for b in train.Training.until_stopped(loop, loader)] in ([], [0], [0, 1])
    else:
        with pytest.raises((RuntimeError, EOFError, OSError)):  # the latter two: it ended while sending a batch
            list(train.Training.until_stopped(loop, loader))


def test_test_py_writes_results_page(dataroot, tmp_path):
    train.main(tiny(dataroot, tmp_path, 'res', '--max_iters', '1'))
    results = tmp_path / 'results'
    # the short command: dataset mode, sizes and widths come from the checkpoint
    test_script.main(['--name', 'res', '--dataroot', dataroot, '--checkpoints_dir', str(tmp_path),
                      '--gpu_ids', '-1', '--results_dir', str(results), '--nThreads', '0'])
    web = results / 'res' / 'val_latest'
    page = (web / 'index.html').read_text()
    stems = sorted(os.path.splitext(f)[0] for f in os.listdir(web / 'images' / 'synthesized_image'))
    assert len(stems) == 2
    from PIL import Image
    import numpy as np
    for kind in ('input_label', 'synthesized_image', 'synthesized_lbp', 'real_image', 'label_ids'):
        img = Image.open(web / 'images' / kind / f'{stems[0]}.png')
        assert img.size == (64, 32)
        if kind != 'label_ids':
            assert f'images/{kind}/{stems[0]}.png' in page
    ids = np.asarray(Image.open(web / 'images' / 'label_ids' / f'{stems[0]}.png'))
    assert ids.max() < 35 and len(np.unique(ids)) > 2
    assert Image.open(web / 'images' / 'synthesized_lbp' / f'{stems[0]}.png').mode == 'L'  # the codes
    # evaluate.py reads what test.py wrote
    import evaluate
    evaluate.main(['--name', 'res', '--results_dir', str(results), '--dataset_mode', 'cityscapes', '--no_fid',
                   '--no_seg', '--gpu_ids', '-1'])
    metrics = json.loads((web / 'metrics.json').read_text())
    assert metrics['num_images'] == 2 and 0 < metrics['lbp_distance'] < 1 and 0 < metrics['lbp_map_distance'] < 1


def test_missing_checkpoint_names_the_path(dataroot, tmp_path):
    with pytest.raises(UserError, match=r'no checkpoint at .*nobody.*latest\.pth'):
        test_script.main(['--dataset_mode', 'cityscapes', '--dataroot', dataroot, '--checkpoints_dir',
                          str(tmp_path), '--name', 'nobody', '--gpu_ids', '-1'])


@pytest.mark.slow
def test_torchrun_two_ranks_hold_identical_weights(dataroot, tmp_path):
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29533']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    proc = subprocess.run([*torchrun, 'tests/ddp_worker.py', str(tmp_path),
                           *tiny(dataroot, tmp_path, 'ddp', '--max_iters', '2', '--batchSize', '1')],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    a = torch.load(tmp_path / 'rank0.pth', weights_only=True)
    b = torch.load(tmp_path / 'rank1.pth', weights_only=True)
    assert_same({k: v for k, v in a.items() if 'running' not in k and 'num_batches' not in k},
                {k: v for k, v in b.items() if 'running' not in k and 'num_batches' not in k})
    assert torch.load(tmp_path / 'ddp' / 'latest.pth', weights_only=True)['trainer']['iteration'] == 2


def test_bf16_autocast_step_on_cpu(dataroot, tmp_path):
    # --force_amp: the test runs on any CPU, also one that emulates bf16 (where --amp bf16 alone stops)
    train.main(tiny(dataroot, tmp_path, 'bf16', '--max_iters', '1', '--amp', 'bf16', '--force_amp'))
    _, w = weights(tmp_path / 'bf16' / 'latest.pth')
    assert all(torch.isfinite(v).all() for v in w.values() if v.is_floating_point())
    with pytest.raises(UserError, match='--amp fp16 needs CUDA'):
        train.main(tiny(dataroot, tmp_path, 'fp16', '--max_iters', '1', '--amp', 'fp16'))


@pytest.fixture(scope='module')
def trained(dataroot, tmp_path_factory):
    """checkpoints/res/latest.pth after one iteration of `tiny`."""
    ckdir = tmp_path_factory.mktemp('trained')
    train.main(tiny(dataroot, ckdir, 'res', '--max_iters', '1'))
    return ckdir


def synthesize(dataroot, ckdir, results, *extra):
    """Run the short test.py command; -> {stem: synthesized image as an int array}."""
    test_script.main(['--name', 'res', '--dataroot', dataroot, '--checkpoints_dir', str(ckdir), '--gpu_ids', '-1',
                      '--nThreads', '0', '--results_dir', str(results), *extra])
    folder = results / 'res' / 'val_latest' / 'images' / 'synthesized_image'
    return {f: np.asarray(Image.open(folder / f)).astype(int) for f in sorted(os.listdir(folder))}


def test_test_options_come_from_the_checkpoint(dataroot, tmp_path):
    arch = ['--label_nc', '40', '--contain_dontcare_label', '--no_instance', '--crop_size', '32', '--aspect_ratio',
            '1', '--lbp_variant', 'skimage', '--nhidden_lbp', '0', '--ngf_lbp', '8']
    train.main(tiny(dataroot, tmp_path, 'arch', '--max_iters', '1', *arch))
    trained_opt = json.loads((tmp_path / 'arch' / 'opt.json').read_text())
    args = ['--name', 'arch', '--checkpoints_dir', str(tmp_path), '--dataroot', 'elsewhere', '--phase', 'train',
            '--how_many', '3', '--gpu_ids', '-1', '--results_dir', 'r']
    options = TestOptions()
    opt = options.parse(args)  # parsing reads no checkpoint: the demo's defaults
    assert (opt.dataset_mode, opt.label_nc, opt.lbp_variant) == ('demo', 35, 'classic')
    opt = options.resolve(opt)  # the named step that does
    for key in ModelConfig.names('generator') + ('dataset_mode',):
        assert getattr(opt, key) == trained_opt[key], key
    assert (opt.dataroot, opt.phase, opt.how_many, opt.results_dir, opt.gpu_ids) == ('elsewhere', 'train', 3, 'r', [])
    # without a checkpoint the dataset's defaults apply
    opt = resolved(TestOptions(), ['--name', 'none', '--checkpoints_dir', str(tmp_path), '--dataset_mode',
                                   'cityscapes'])
    assert (opt.label_nc, opt.crop_size, opt.no_instance) == (35, 512, False)


def test_checkpoint_without_the_newer_options_still_loads(dataroot, trained, tmp_path):
    state = torch.load(trained / 'res' / 'latest.pth', weights_only=True)
    config = state.pop('config')  # as a .pth was before the config: some options, and no opt.json beside it
    state['options'] = {k: v for k, v in config.items() if k not in ('lbp_variant', 'nhidden_lbp', 'dataset_mode')}
    durable.save(str(tmp_path / 'res' / 'latest.pth'), state)
    images = synthesize(dataroot, tmp_path, tmp_path / 'results', '--dataset_mode', 'cityscapes', '--how_many', '1')
    assert len(images) == 1 and next(iter(images.values())).shape == (32, 64, 3)


def test_test_py_load_from_opt_file(dataroot, trained, tmp_path):
    images = synthesize(dataroot, trained, tmp_path, '--load_from_opt_file', '--how_many', '1')
    assert len(images) == 1


def test_test_py_honours_amp_channels_last_and_compile(dataroot, trained, tmp_path, monkeypatch):
    plain = synthesize(dataroot, trained, tmp_path / 'plain')
    assert len(plain) == 2
    channels_last = synthesize(dataroot, trained, tmp_path / 'cl', '--channels_last')
    bf16 = synthesize(dataroot, trained, tmp_path / 'bf16', '--amp', 'bf16', '--force_amp')  # (any CPU)
    for stem, image in plain.items():
        assert np.abs(channels_last[stem] - image).max() <= 1
        difference = np.abs(bf16[stem] - image)
        assert 0 < difference.mean() < 8  # bf16 really ran, and still draws the same picture
    compiled = []
    monkeypatch.setattr(torch, 'compile', lambda fn, **kw: compiled.append(fn) or fn)
    synthesize(dataroot, trained, tmp_path / 'compiled', '--compile')
    assert any(isinstance(fn, torch.nn.Module) for fn in compiled)
    with pytest.raises(UserError, match='--amp fp16 needs CUDA'):
        synthesize(dataroot, trained, tmp_path / 'fp16', '--amp', 'fp16')


def test_every_epoch_bar_shows_the_latest_losses_and_the_runs_progress(dataroot, tmp_path, monkeypatch):
    bars, real_bar = [], train.tqdm

    def shown_bar(*args, **kwargs):  # the real bar, forced on (tests run without a terminal)
        bars.append(real_bar(*args, **{**kwargs, 'disable': False, 'file': io.StringIO()}))
        return bars[-1]
    monkeypatch.setattr(train, 'tqdm', shown_bar)
    # one batch per epoch, losses logged at iteration 1 only: epoch 2's bar must still show them
    train.main(tiny(dataroot, tmp_path, 'bar', '--niter', '2', '--print_freq', '1000', '--max_dataset_size', '2'))
    assert len(bars) == 2
    for bar in bars:
        assert 'GAN=' in str(bar) and 'img/s=' in str(bar)
    assert 'run=1/2' in str(bars[0]) and 'run=2/2' in str(bars[1]) and 'ETA=0:00' in str(bars[1])


def test_missing_eval_segmenter_is_a_one_line_error_naming_the_option(tmp_path):
    from evaluation.during_training import TrainingEvaluator
    from conftest import tiny_opt
    opt = tiny_opt('--eval_freq', '5', '--eval_seg_weights', str(tmp_path / 'nope.pth'))
    with pytest.raises(UserError, match=r'--eval_seg_weights .*nope.pth: no such file; .*leave the option out'):
        TrainingEvaluator(opt, model=None)


def test_a_resume_already_at_max_iters_trains_nothing(dataroot, tmp_path, capsys):
    train.main(tiny(dataroot, tmp_path, 'done', '--max_iters', '2'))
    train.main(tiny(dataroot, tmp_path, 'done', '--max_iters', '2', '--continue_train'))
    assert 'is at iteration 2 already; nothing to train' in capsys.readouterr().out
    assert torch.load(tmp_path / 'done' / 'latest.pth', weights_only=True)['trainer']['iteration'] == 2
    with pytest.raises(UserError, match='--max_iters 0: must be at least 1'):
        train.main(tiny(dataroot, tmp_path, 'zero', '--max_iters', '0'))
