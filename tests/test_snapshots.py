"""What train.py leaves on disk: no *.pth.tmp leftovers, and slim epoch snapshots that
test.py loads and a resume restarts the optimizers from."""
import importlib.util
import os

import torch

import train
import util.checkpoint as ckpt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location('test_script', os.path.join(ROOT, 'test.py'))
test_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(test_script)


def tiny(dataroot, ckdir, name, *extra):
    return ['--dataset_mode', 'cityscapes', '--dataroot', dataroot, '--checkpoints_dir', str(ckdir), '--name', name,
            '--crop_size', '64', '--load_size', '64', '--num_upsampling_layers', 'normal', '--ngf', '4', '--ndf', '4',
            '--nhidden', '8', '--batchSize', '2', '--nThreads', '0', '--gpu_ids', '-1', '--no_vgg_loss',
            '--no_tf_log', '--display_freq', '1000', '--seed', '5', *extra]


def test_a_run_removes_the_tmp_files_a_killed_save_left(demo_city, tmp_path, capsys):
    run, other = tmp_path / 'run', tmp_path / 'other'
    run.mkdir()
    other.mkdir()
    for leftover in (run / 'latest.pth.tmp', run / '10.pth.tmp', other / 'latest.pth.tmp'):
        leftover.write_bytes(b'half a checkpoint')
    (run / 'notes.tmp').write_text('not ours')
    train.main(tiny(demo_city, tmp_path, 'run', '--max_iters', '1'))
    out = capsys.readouterr().out
    assert f"removed {run / '10.pth.tmp'}: left behind by a save that was killed" in out
    assert f"removed {run / 'latest.pth.tmp'}" in out
    assert not list(run.glob('*.pth.tmp')) and (run / 'notes.tmp').exists()
    assert (other / 'latest.pth.tmp').exists()  # another experiment's folder is not touched
    # and on resuming
    (run / 'latest.pth.tmp').write_bytes(b'half')
    train.main(tiny(demo_city, tmp_path, 'run', '--max_iters', '2', '--continue_train'))
    assert 'removed' in capsys.readouterr().out and not (run / 'latest.pth.tmp').exists()
    assert ckpt.remove_leftovers(str(tmp_path / 'run')) == []


def test_epoch_snapshots_are_slim_load_in_test_py_and_resume_with_fresh_optimizers(demo_city, tmp_path, capsys):
    # one batch per epoch; snapshots 1.pth and 2.pth, then latest
    train.main(tiny(demo_city, tmp_path, 'slim', '--niter', '2', '--save_epoch_freq', '1', '--max_dataset_size', '2'))
    slim, latest = (torch.load(tmp_path / 'slim' / f'{w}.pth', weights_only=True) for w in ('1', 'latest'))
    assert 'trainer' not in slim and 'rng' not in slim
    assert set(slim) == {'networks', 'config', 'epoch', 'epoch_iter', 'iteration'}
    assert (slim['epoch'], slim['epoch_iter'], slim['iteration']) == (2, 0, 1)
    assert 'trainer' in latest and 'rng' in latest and latest['networks'].keys() == slim['networks'].keys()
    assert os.path.getsize(tmp_path / 'slim' / '1.pth') < 0.5 * os.path.getsize(tmp_path / 'slim' / 'latest.pth')

    # test.py needs nothing more
    results = tmp_path / 'results'
    test_script.main(['--name', 'slim', '--which_epoch', '1', '--dataroot', demo_city, '--checkpoints_dir',
                      str(tmp_path), '--gpu_ids', '-1', '--nThreads', '0', '--results_dir', str(results)])
    assert len(os.listdir(results / 'slim' / 'val_1' / 'images' / 'synthesized_image')) == 2

    # resuming from it: one line says the optimizers restart, and it trains on from epoch 2
    capsys.readouterr()
    train.main(tiny(demo_city, tmp_path, 'slim', '--niter', '3', '--save_epoch_freq', '1', '--max_dataset_size', '2',
                    '--continue_train', '--which_epoch', '1'))
    notices = [line for line in capsys.readouterr().out.splitlines() if 'no optimizer state' in line]
    assert len(notices) == 1
    assert 'the optimizers restart from zero at iteration 1, epoch 2' in notices[0] and '--save_full_snapshots' in notices[0]
    resumed = torch.load(tmp_path / 'slim' / 'latest.pth', weights_only=True)
    assert resumed['trainer']['iteration'] == 3 and resumed['epoch'] == 4  # epochs 2 and 3 trained
    assert resumed['trainer']['optimizer_G']['state']  # Adam's moments again, from this run


def test_save_full_snapshots_keeps_everything(demo_city, tmp_path):
    train.main(tiny(demo_city, tmp_path, 'full', '--niter', '1', '--save_epoch_freq', '1', '--max_dataset_size', '2',
                    '--save_full_snapshots'))
    state = torch.load(tmp_path / 'full' / '1.pth', weights_only=True)
    assert 'trainer' in state and 'rng' in state and state['trainer']['optimizer_D']['state']
