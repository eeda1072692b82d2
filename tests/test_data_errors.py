"""A bad file found by a DataLoader worker is one `error:` line and exit status 2;
found mid-run, it saves `latest` first, and --continue_train resumes once the file is fixed."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import data
import train
from conftest import resolved
from options.train_options import TrainOptions
from util.errors import DataError, UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_custom(root, n=6, size=32):
    """n label/image pairs of 10 classes, sorted s0 .. s{n-1}."""
    y, x = np.mgrid[0:size, 0:size]
    for d in ('img', 'lab'):
        os.makedirs(root / d, exist_ok=True)
    for i in range(n):
        label = ((x // 4 + y // 8 + i) % 10).astype(np.uint8)
        Image.fromarray(np.stack([label * 25] * 3, -1)).save(root / 'img' / f's{i}.png')
        Image.fromarray(label).save(root / 'lab' / f's{i}.png')


def options(root, nthreads):
    return ['--dataset_mode', 'custom', '--label_dir', str(root / 'lab'), '--image_dir', str(root / 'img'),
            '--label_nc', '10', '--checkpoints_dir', str(root / 'ck'), '--name', 'run', '--crop_size', '32',
            '--load_size', '32', '--preprocess_mode', 'fixed', '--ngf', '4', '--ndf', '4', '--nhidden', '8',
            '--batchSize', '2', '--serial_batches', '--niter', '1', '--nThreads', str(nthreads), '--gpu_ids', '-1',
            '--no_vgg_loss', '--no_tf_log', '--display_freq', '1000', '--print_freq', '1000']


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def assert_one_error_line(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), proc.stderr
    assert 'Traceback' not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_loader_raises_the_datasets_own_message_from_a_worker(tmp_path):
    write_custom(tmp_path, n=2)
    Image.fromarray(np.full((32, 32), 200, np.uint8)).save(tmp_path / 'lab' / 's1.png')
    opt = resolved(TrainOptions(), options(tmp_path, 2))
    with pytest.raises(UserError) as direct:
        data.create_dataset(opt)[1]
    with pytest.raises(DataError) as through_worker:
        list(data.create_dataloader(opt))
    assert str(through_worker.value) == str(direct.value)


@pytest.mark.parametrize('nthreads', [0, 2])
def test_out_of_range_label_is_one_line_whatever_the_worker_count(tmp_path, nthreads):
    write_custom(tmp_path)
    Image.fromarray(np.full((32, 32), 200, np.uint8)).save(tmp_path / 'lab' / 's0.png')
    proc = run('train.py', *options(tmp_path, nthreads))
    line = assert_one_error_line(proc, 's0.png', 'label value(s) 200 out of range for --label_nc 10')
    assert 'saved' not in line  # nothing was trained, so nothing to keep
    assert not (tmp_path / 'ck' / 'run' / 'latest.pth').exists()


@pytest.mark.slow
def test_truncated_image_mid_epoch_saves_latest_and_resumes(tmp_path):
    write_custom(tmp_path)
    broken = tmp_path / 'img' / 's5.png'
    whole = broken.read_bytes()
    broken.write_bytes(whole[:len(whole) // 3])
    args = options(tmp_path, 2)
    line = assert_one_error_line(run('train.py', *args), 's5.png', 'truncated', '--continue_train')
    latest = tmp_path / 'ck' / 'run' / 'latest.pth'
    assert str(latest) in line
    state = torch.load(latest, weights_only=True)
    assert (state['epoch'], state['epoch_iter'], state['trainer']['iteration']) == (1, 2, 2)  # batches s0 s1, s2 s3
    # test.py reads through the same loader (and takes --dataset_mode, --label_nc from the checkpoint)
    assert_one_error_line(run('test.py', '--name', 'run', '--checkpoints_dir', str(tmp_path / 'ck'),
                              '--label_dir', str(tmp_path / 'lab'), '--image_dir', str(tmp_path / 'img'),
                              '--phase', 'train', '--results_dir', str(tmp_path / 'res'), '--gpu_ids', '-1'),
                          's5.png', 'truncated')
    broken.write_bytes(whole)
    train.main(args + ['--continue_train'])
    state = torch.load(latest, weights_only=True)
    assert (state['epoch'], state['epoch_iter'], state['trainer']['iteration']) == (2, 0, 3)
