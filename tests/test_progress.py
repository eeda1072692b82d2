"""The whole run's progress and ETA (util/progress.py) and train.py's log of it (the bar: test_train.py)."""
import re

import pytest

import train
from util.progress import RunProgress, eta_seconds, format_duration, total_iterations


def test_total_is_epochs_times_batches_or_max_iters_when_smaller():
    assert total_iterations(20, 50) == 1000
    assert total_iterations(20, 50, max_iters=300) == 300
    assert total_iterations(2, 3, max_iters=100) == 6


def test_eta_is_the_mean_iteration_time_of_this_process_times_what_is_left():
    assert eta_seconds(done=10, total=100, start_done=0, elapsed=20.0) == pytest.approx(180.0)
    # resumed at iteration 400: only this process's 100 iterations (50 s) set the pace
    assert eta_seconds(done=500, total=1000, start_done=400, elapsed=50.0) == pytest.approx(250.0)
    assert eta_seconds(done=400, total=1000, start_done=400, elapsed=3.0) is None  # nothing run yet
    assert eta_seconds(done=1000, total=1000, start_done=0, elapsed=9.0) == 0.0
    assert eta_seconds(done=1200, total=1000, start_done=0, elapsed=9.0) == 0.0  # never negative


def test_durations_read_as_clock_times():
    assert [format_duration(s) for s in (None, 0, 5.4, 65, 3599.6, 3725, 90061)] == \
        ['?', '0:00', '0:05', '1:05', '1:00:00', '1:02:05', '25:01:01']


def test_run_progress_uses_the_time_since_it_started():
    now = [100.0]
    progress = RunProgress(total=1000, done=200, clock=lambda: now[0])
    assert progress.text(200) == '200/1000, ETA ?'
    now[0] = 130.0  # 30 s for 10 iterations: 790 left at 3 s each
    assert progress.fields(210) == {'run': '210/1000', 'ETA': '39:30'}
    assert progress.text(210) == '210/1000, ETA 39:30'


def test_train_py_logs_the_runs_progress(demo_city, tmp_path):
    # 6 scenes in batches of 2: 3 per epoch; 3 epochs = 9 iterations, --max_iters 4 is smaller
    train.main(['--dataset_mode', 'cityscapes', '--dataroot', demo_city, '--checkpoints_dir', str(tmp_path),
                '--name', 'eta', '--crop_size', '64', '--load_size', '64', '--num_upsampling_layers', 'normal',
                '--ngf', '4', '--ndf', '4', '--nhidden', '8', '--batchSize', '2', '--nThreads', '0', '--gpu_ids', '-1',
                '--no_vgg_loss', '--no_tf_log', '--display_freq', '1000', '--niter', '3', '--max_iters', '4',
                '--print_freq', '2'])
    log = (tmp_path / 'eta' / 'loss_log.txt').read_text().splitlines()
    assert log[1].startswith('machine: CPU ')  # the machine, once, under the run's header
    lines = [line for line in log if line.startswith('(epoch')]
    assert [re.search(r'run: (\d+/\d+), ETA ([0-9:?]+)\)', line).group(1) for line in lines] == ['1/4', '2/4', '4/4']
    assert lines[-1].split('ETA ')[1].startswith('0:00)')  # nothing left at the end
