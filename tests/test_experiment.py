"""scripts/experiment.py: the seeds x rows ablation, its statistics, and that it resumes."""
import importlib.util
import json
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location('experiment', os.path.join(ROOT, 'scripts', 'experiment.py'))
experiment = importlib.util.module_from_spec(spec)
spec.loader.exec_module(experiment)


def test_interval_is_the_student_t_95_percent_interval():
    mean, half = experiment.interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.302653 / np.sqrt(3))  # t(0.975, 2) · s / √n, s = 1
    assert experiment.interval([5.0]) == (5.0, None)


def test_unknown_row_is_a_one_line_error():
    with pytest.raises(experiment.UserError, match="--rows: unknown nope"):
        experiment.parse_args(['--rows', 'spade,nope'])


@pytest.mark.slow
def test_experiment_runs_resumes_and_reports(tmp_path, capsys):
    args = ['--iters', '2', '--eval_freq', '1', '--num_val', '2', '--seg_iters', '2', '--seeds', '0,1',
            '--rows', 'spade,no_image_fake', '--dataroot', str(tmp_path / 'data'),
            '--checkpoints_dir', str(tmp_path / 'ck'), '--out', str(tmp_path / 'out'), '--amp', 'none']
    experiment.main(args)
    assert capsys.readouterr().out.count('+ train.py') == 4
    table = (tmp_path / 'out' / 'table.md').read_text()
    assert '| SPADE | 2 |' in table and '| ULBPGAN without LBP(I) in D_L | 2 |' in table
    assert '| ULBPGAN without LBP(I) in D_L − SPADE | 2 |' in table and (tmp_path / 'out' / 'curves.png').stat().st_size > 1000
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    finals = [results['spade'][s]['final'] for s in ('0', '1')]
    assert all(f['iteration'] == 2 and 0 <= f['miou'] <= 1 and f['fid_seg'] >= 0 for f in finals)
    # Paired differences: the table's mean difference is the mean of the per-seed differences.
    diff = np.mean([results['no_image_fake'][s]['final']['lbp_distance'] - results['spade'][s]['final']['lbp_distance']
                    for s in ('0', '1')])
    assert f"{diff:.3f}" in table.split('difference, paired by seed')[1]
    # A second call redoes nothing; a run without its done marker resumes from its latest.pth.
    os.remove(tmp_path / 'ck' / 'exp_spade_s1' / 'experiment_done.json')
    experiment.main(args)
    out = capsys.readouterr().out
    assert out.count('+ train.py') == 1 and '--name exp_spade_s1' in out and '--continue_train' in out
    walls = json.loads((tmp_path / 'out' / 'wall_seconds.json').read_text())  # one entry per invocation
    assert len(walls) == 2 and all(v > 0 for v in walls.values())
    assert f"wall time {sum(walls.values()) / 60:.0f} min" in (tmp_path / 'out' / 'table.md').read_text()
