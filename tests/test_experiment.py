"""experiments/: the seeds x rows experiments, their statistics, and that they resume."""
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from experiments import cli, figures, report, runs, statistics
from util.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the names the tests use, wherever they live in the package
experiment = SimpleNamespace(**{**vars(runs), **vars(statistics), **vars(report), **vars(cli), 'UserError': UserError})


def test_interval_is_the_student_t_95_percent_interval():
    mean, half = experiment.interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.302653 / np.sqrt(3))  # t(0.975, 2) · s / √n, s = 1
    assert experiment.interval([5.0]) == (5.0, None)


def test_unknown_row_is_a_one_line_error():
    with pytest.raises(experiment.UserError, match="--rows: unknown nope"):
        experiment.parse_args(['--rows', 'spade,nope'])


def test_a_run_is_worth_the_mean_of_its_last_evaluations():
    keys = experiment.VAL_KEYS
    log = [{k: float(i) for k in keys} for i in range(5)]
    assert experiment.run_value(log, 3, keys)['texture_js'] == 3.0 and experiment.run_value(log, 1, keys)['miou'] == 4.0
    log[-1]['fid_seg'] = None
    assert experiment.run_value(log, 3, keys)['fid_seg'] is None
    assert experiment.run_value([{'iteration': 1}], 1, ['c2st'])['c2st'] is None  # a log from before a metric


def test_power_matches_the_paired_t_test():
    from scipy import stats
    n, sd = 8, 0.02
    delta = experiment.detectable(sd, n)
    # the noncentral t: a true difference of `delta` is found 80 % of the time (up to the usual approximation)
    power = 1 - stats.nct.cdf(stats.t.ppf(0.975, n - 1), n - 1, delta / (sd / np.sqrt(n)))
    assert power == pytest.approx(0.8, abs=0.03)
    assert experiment.seeds_needed(sd, delta) == n and experiment.seeds_needed(sd, delta * 2) < n


def test_only_the_default_invocation_is_headed_by_the_plan():
    assert experiment.parse_args([]).planned and experiment.parse_args(['--seeds', '0,1']).planned
    assert not experiment.parse_args(['--iters', '40']).planned
    assert not experiment.parse_args(['--rows', 'spade']).planned


def test_each_dataset_has_its_own_plan():
    demo, camvid = experiment.parse_args([]), experiment.parse_args(['--dataset', 'camvid'])
    assert (demo.iters, demo.eval_freq, len(demo.seeds)) == (2000, 200, 8)
    assert (camvid.iters, camvid.eval_freq, camvid.seeds) == (910, 91, [0, 1, 2])  # 10 CamVid epochs
    assert camvid.planned and camvid.rows == ['spade', 'ulbpgan'] and demo.rows[-1] == 'no_image_fake'
    assert (demo.amp, camvid.amp) == ('auto', 'none')  # camvid: fp32 everywhere, so runs of any CPU pool
    assert not experiment.parse_args(['--dataset', 'camvid', '--amp', 'auto']).planned
    assert not experiment.parse_args(['--dataset', 'camvid', '--iters', '1820']).planned
    assert (demo.out, camvid.out) == ('results/experiment', 'results/experiment_camvid')  # tables kept apart


def test_a_run_stopped_before_its_iterations_is_not_marked_done(tmp_path, monkeypatch):
    args = experiment.parse_args(['--iters', '4', '--checkpoints_dir', str(tmp_path), '--rows', 'spade', '--seeds', '0'])
    folder = tmp_path / 'exp_demo_spade_s0'

    def stopped_train(cmd, threads=None):  # train.py stopped by a signal: latest.pth, exit status 0
        (folder / 'eval_log.csv').write_text('iteration,texture_js\n2,0.5\n')
    monkeypatch.setattr(runs, 'run', stopped_train)
    with pytest.raises(experiment.UserError, match='stopped at iteration 2 of 4; run the same command to continue'):
        experiment.train(args, 'spade', 0, 'seg.pth')
    assert not (folder / 'experiment_done.json').exists()


def test_an_attempt_killed_with_the_experiment_counts_up_to_its_last_save(tmp_path, monkeypatch):
    args = experiment.parse_args(['--iters', '4', '--checkpoints_dir', str(tmp_path), '--rows', 'spade', '--seeds', '0'])
    folder = tmp_path / 'exp_demo_spade_s0'

    def killed(cmd, threads=None):  # saved latest 100 s into the attempt, then killed with this process
        (folder / 'latest.pth').write_text('weights')
        start = float((folder / runs.STARTED).read_text())
        os.utime(folder / 'latest.pth', (start + 100, start + 100))
        raise KeyboardInterrupt

    def finishes(cmd, threads=None):
        assert '--continue_train' in cmd
        (folder / 'eval_log.csv').write_text('iteration,texture_js\n4,0.5\n')
    monkeypatch.setattr(runs, 'run', killed)
    with pytest.raises(KeyboardInterrupt):
        experiment.train(args, 'spade', 0, 'seg.pth')
    monkeypatch.setattr(runs, 'run', finishes)
    monkeypatch.setattr(runs, 'score_final', lambda *a: {})
    experiment.train(args, 'spade', 0, 'seg.pth')
    attempts = [float(x) for x in (folder / 'experiment_time.txt').read_text().split()]
    assert attempts[0] == pytest.approx(100, abs=0.1) and len(attempts) == 2 and attempts[1] < 5
    assert json.loads((folder / 'experiment_done.json').read_text())['seconds'] == pytest.approx(sum(attempts))
    assert not (folder / runs.STARTED).exists()
    (folder / runs.STARTED).write_text('')  # a marker cut short: its attempt is not counted, and nothing fails
    runs.count_killed_attempt(str(folder), str(folder / 'experiment_time.txt'))
    assert len((folder / 'experiment_time.txt').read_text().split()) == 2 and not (folder / runs.STARTED).exists()


def test_a_record_of_other_settings_is_refused_in_one_line(tmp_path):
    path = str(tmp_path / 'r.json')
    experiment.made_for(path, {'iters': 1000, 'ngf': 16}, 'checkpoints/x', 'remove it')
    experiment.made_for(path, {'iters': 1000, 'ngf': 16}, 'checkpoints/x', 'remove it')  # the same: fine
    with pytest.raises(experiment.UserError, match=r'^checkpoints/x was made with iters 1000 \(now 40\); remove it$'):
        experiment.made_for(path, {'iters': 40, 'ngf': 16}, 'checkpoints/x', 'remove it')


def test_records_carry_finished_runs_to_another_machine(tmp_path, capsys):
    args = experiment.parse_args(['--rows', 'spade', '--seeds', '0,1', '--checkpoints_dir', str(tmp_path / 'a'),
                                  '--records', str(tmp_path / 'kept')])
    folder = tmp_path / 'a' / 'exp_demo_spade_s0'
    folder.mkdir(parents=True)
    for name in experiment.RECORDS:
        (folder / name).write_text(name)
    (folder / 'latest.pth').write_text('weights')
    experiment.keep_records(args, str(folder))
    assert sorted(os.listdir(tmp_path / 'kept' / 'exp_demo_spade_s0')) == sorted(experiment.RECORDS)  # no weights
    args.checkpoints_dir = str(tmp_path / 'b')  # the other machine: a fresh checkpoints folder
    experiment.restore_records(args)
    restored = tmp_path / 'b' / 'exp_demo_spade_s0'
    assert all((restored / n).read_text() == n for n in experiment.RECORDS)
    assert not (tmp_path / 'b' / 'exp_demo_spade_s1').exists()  # not finished anywhere: trained there
    assert 'finished elsewhere' in capsys.readouterr().out
    (restored / 'eval_log.csv').write_text('changed here')  # a run this machine has is never overwritten
    experiment.restore_records(args)
    assert (restored / 'eval_log.csv').read_text() == 'changed here'
    # rescored on a third machine after this one had restored the run: the new scores reach it, an older copy not
    (tmp_path / 'kept' / 'exp_demo_spade_s0' / runs.VAL_RESCORED).write_text('rescored elsewhere')
    experiment.restore_records(args)
    assert (restored / runs.VAL_RESCORED).read_text() == 'rescored elsewhere'
    (restored / runs.VAL_RESCORED).write_text('rescored here, later')
    os.utime(tmp_path / 'kept' / 'exp_demo_spade_s0' / runs.VAL_RESCORED, (1, 1))
    experiment.restore_records(args)
    assert (restored / runs.VAL_RESCORED).read_text() == 'rescored here, later'
    os.remove(tmp_path / 'kept' / 'exp_demo_spade_s0' / 'opt.json')  # a record cut short: one line, no traceback
    args.checkpoints_dir = str(tmp_path / 'c')
    with pytest.raises(experiment.UserError, match=r'exp_demo_spade_s0: no opt.json, so it is no whole run'):
        experiment.restore_records(args)


def test_runs_of_another_precision_are_not_pooled_but_another_memory_layout_is(tmp_path, capsys):
    args = experiment.parse_args(['--dataset', 'camvid', '--rows', 'spade', '--iters', '2', '--checkpoints_dir',
                                  str(tmp_path)])
    header = 'iteration,' + ','.join(experiment.VAL_KEYS)
    for seed, (amp, layout) in enumerate([('none', False), ('none', True), ('bf16', True)]):
        folder = tmp_path / experiment.run_name(args, 'spade', seed)
        folder.mkdir()
        (folder / 'experiment_done.json').write_text(json.dumps(
            {'command': experiment.command(args, 'spade', seed, 'seg.pth'), 'seconds': 1}))
        (folder / 'eval_log.csv').write_text(f"{header}\n2,{','.join(['0.5'] * len(experiment.VAL_KEYS))}\n")
        (folder / 'opt.json').write_text(json.dumps({'amp': amp, 'channels_last': layout, 'no_vgg_loss': True}))
    assert sorted(experiment.collect(args, 'seg.pth', experiment.VAL_KEYS)['spade']) == [0, 1]
    assert "exp_camvid_spade_s2 chose {'no_vgg_loss': True, 'amp': 'bf16'} by itself" in capsys.readouterr().out


@pytest.mark.slow
def test_experiment_runs_resumes_reports_and_refuses_what_it_did_not_plan(tmp_path, capsys):
    base = ['--eval_freq', '1', '--num_val', '2', '--seg_iters', '2', '--seeds', '0,1', '--last', '2',
            '--rows', 'spade,no_image_fake', '--dataroot', str(tmp_path / 'data'),
            '--checkpoints_dir', str(tmp_path / 'ck'), '--out', str(tmp_path / 'out'), '--amp', 'none']
    args = ['--iters', '3', '--jobs', '2', *base]
    experiment.main(args)
    assert capsys.readouterr().out.count('+ train.py') == 4
    table = (tmp_path / 'out' / 'table.md').read_text()
    assert table.startswith('Not the pre-registered experiment') and 'the mean of its last 2 evaluations' in table
    assert '| SPADE | 2 |' in table and '| ULBPGAN without LBP(I) in D_L | 2 |' in table
    assert '| reference: texture-free (segment mean colours) |' in table and '| reference: real val images' in table
    assert (tmp_path / 'out' / 'curves.png').stat().st_size > 1000
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    runs = results['runs']
    assert all(runs['spade'][s]['last_eval']['iteration'] == 3 for s in ('0', '1'))
    for s in ('0', '1'):  # a run's value: the mean of its last 2 evaluations
        log = experiment.read_log(tmp_path / 'ck' / f'exp_demo_spade_s{s}')
        assert runs['spade'][s]['value']['texture_js'] == pytest.approx(np.mean([r['texture_js'] for r in log[-2:]]))
    assert set(results['references']['texture']) == {'texture_free', 'noise', 'blurred', 'real_vs_real'}
    # Paired differences: the table's mean difference is the mean of the per-seed differences.
    diff = np.mean([runs['no_image_fake'][s]['value']['texture_js'] - runs['spade'][s]['value']['texture_js']
                    for s in ('0', '1')])
    assert f"| {diff:.3f} ± " in table.split('difference, paired by seed')[1]
    done = json.loads((tmp_path / 'ck' / 'exp_demo_spade_s0' / 'experiment_done.json').read_text())
    assert f", {max(1, (os.cpu_count() or 1) // 2)} torch threads" in done['machine']  # the run's, not this process's
    per_class = json.loads((tmp_path / 'ck' / 'exp_demo_spade_s0' / 'eval_per_class.json').read_text())
    assert set(per_class) == {'1', '2', '3'} and per_class['3']['iou'] and per_class['3']['texture']
    # A second call redoes nothing; a run without its done marker resumes from its latest.pth.
    os.remove(tmp_path / 'ck' / 'exp_demo_spade_s1' / 'experiment_done.json')
    experiment.main(args)
    out = capsys.readouterr().out
    assert out.count('+ train.py') == 1 and '--name exp_demo_spade_s1' in out and '--continue_train' in out
    walls = json.loads((tmp_path / 'out' / 'wall_seconds.json').read_text())  # one entry per invocation
    assert len(walls) == 2 and all(v > 0 for v in walls.values())
    assert f"wall time on this machine {sum(walls.values()) / 60:.0f} min" in (tmp_path / 'out' / 'table.md').read_text()
    # Other settings: the runs are refused (training) and not reported (the table).
    with pytest.raises(experiment.UserError, match=r'exp_demo_spade_s0 was made with command --max_iters 3 '
                                                   r'\(now 2\); remove the folder'):
        experiment.main(['--iters', '2', *base])
    experiment.main(['--iters', '2', '--report_only', *base])
    out = capsys.readouterr().out
    assert out.count('not reported:') == 4 and 'no finished runs yet' in out
    # A dataset or segmenter made for other arguments is refused.
    with pytest.raises(experiment.UserError, match=r'data was made with num_val 2 \(now 3\)'):
        experiment.main([*args, '--num_val', '3'])
    with pytest.raises(experiment.UserError, match=r'experiment_segmenter_demo.pth was made with seg_iters 2 \(now 5\)'):
        experiment.main([*args, '--seg_iters', '5'])


@pytest.mark.slow
def test_camvid_experiment_scores_the_test_split_at_the_end(tmp_path, monkeypatch, capsys):
    import test_camvid
    monkeypatch.setattr(test_camvid, 'SPLITS', {'train': 4, 'val': 4, 'test': 2})  # one batch of 4; 2 + 2 val
    root = test_camvid.write_camvid(tmp_path / 'CamVid')
    args = ['--dataset', 'camvid', '--dataroot', str(root), '--iters', '1', '--eval_freq', '1', '--last', '1',
            '--seg_iters', '2', '--seeds', '0', '--rows', 'spade,ulbpgan', '--checkpoints_dir', str(tmp_path / 'ck'),
            '--out', str(tmp_path / 'out'), '--amp', 'none']
    experiment.main(args)
    table = (tmp_path / 'out' / 'table.md').read_text()
    final = table.split('Scored at the end on the whole test split')[1]
    assert '| SPADE | 1 |' in final and '| ULBPGAN (+ D_L) − SPADE (primary), paired | 1 |' in final
    assert '| reference: texture-free (segment mean colours) |' in final and '| reference: real photos (segmenter ceiling) |' in final
    done = json.loads((tmp_path / 'ck' / 'exp_camvid_spade_s0' / 'experiment_done.json').read_text())
    metrics = json.loads((tmp_path / 'out' / 'test_images' / 'exp_camvid_spade_s0' / 'test_latest' /
                          'metrics.json').read_text())
    assert metrics['num_images'] == 2 and done['final']['texture_js'] == metrics['texture_js']
    from PIL import Image
    grid = Image.open(tmp_path / 'out' / 'test_grid.png')  # label, SPADE, ULBPGAN, real under their titles
    assert grid.width == 4 * 128 and 2 * 96 < grid.height <= 2 * 96 + 60
    capsys.readouterr()
    experiment.main([*args, '--rescore_val'])  # the val curves only: these runs kept no val images
    assert 'exp_camvid_spade_s0: no kept val images on this machine' in capsys.readouterr().out
    assert not (tmp_path / 'ck' / 'exp_camvid_spade_s0' / 'experiment_rescored.json').exists()
    (tmp_path / 'ck' / 'exp_camvid_spade_s0' / 'eval_images' / '1').mkdir(parents=True)  # an evaluation cut short
    with pytest.raises(experiment.UserError, match=r'eval_images/1: no .+\.png \(4 of 4 val images missing\); remove'):
        experiment.main([*args, '--rescore_val'])
    with pytest.raises(experiment.UserError, match='no CamVid here'):
        experiment.main([*args[:2], '--dataroot', str(tmp_path / 'nowhere'), *args[4:]])


def test_a_retrained_segmenter_is_named_in_the_report(tmp_path):
    runs = {'spade': {}}
    for seed, miou in enumerate((0.9753, 0.9785, 0.9753)):
        folder = tmp_path / f'run{seed}'
        folder.mkdir()
        (folder / 'eval_references.json').write_text(json.dumps({'texture': {}, 'real_images': {'miou': miou}}))
        runs['spade'][seed] = {'folder': str(folder)}
    refs = experiment.references(runs)
    assert refs['segmenter_ceilings'] == [97.53, 97.85] and refs['real_images']['miou'] == 0.9753
    assert '97.53, 97.85' in experiment.segmenter_note(refs)
    del runs['spade'][1]
    assert experiment.segmenter_note(experiment.references(runs)) == ''


def test_the_realism_plan_trains_fair_spades_and_the_compute_row_twice_as_long():
    args = experiment.parse_args(['--dataset', 'camvid_realism'])
    assert args.planned and args.rows == ['spade', 'spade_params', 'spade_compute', 'ulbpgan'] and len(args.seeds) == 5
    commands = {row: runs.as_options(experiment.command(args, row, 0, 'seg.pth')) for row in args.rows}
    assert commands['spade_compute']['--max_iters'] == '3640' and commands['spade']['--max_iters'] == '1820'
    assert commands['spade_compute']['--eval_freq'] == '364' and commands['spade_compute']['--niter'] == '20'
    assert (commands['spade_params']['--ngf'], commands['spade_params']['--ndf']) == ('20', '23')
    assert all(c['--lbp_grad_colour'] == 'grey' and '--eval_keep_images' in c for c in commands.values())
    assert experiment.comparisons(args.rows, [('ulbpgan', 'spade_params')])[0][2].endswith('(primary)')


def test_the_parameter_matched_spade_is_within_15_percent_on_both_sides():
    from experiments.rows import parameters
    g, d = parameters('ulbpgan')
    g2, d2 = parameters('spade_params')
    assert abs(g2 / g - 1) < 0.15 and abs(d2 / d - 1) < 0.15
    assert parameters('spade')[0] < 0.75 * g  # the plain SPADE is the smaller one


def test_a_measure_rescored_at_later_evaluations_only_gets_its_curve(tmp_path):
    logs = [[{'iteration': 182, 'texture_js': 0.3, 'c2st': None, 'miou': None},
             {'iteration': 364, 'texture_js': 0.2, 'c2st': 0.9 - 0.01 * seed, 'miou': None}] for seed in range(2)]
    found = {'spade': {s: {'log': log} for s, log in enumerate(logs)}}
    assert figures.logged(found, figures.CURVES) == ['c2st', 'texture_js']
    assert figures.curve(logs, 'c2st') == ([364], [[0.9], [0.89]])
    figures.curves(found, tmp_path / 'c.png')
    assert (tmp_path / 'c.png').stat().st_size > 0


def test_a_curve_reaches_a_level_when_it_stays_there_and_flattens():
    its = [100, 200, 300, 400, 500, 600]
    assert experiment.reaches(its, [0.5, 0.3, 0.45, 0.3, 0.2, 0.2], 0.35) == 400  # not at 200: it came back
    assert experiment.reaches(its, [0.5] * 6, 0.35) is None
    assert experiment.reaches(its, [0.1, 0.5, 0.6, 0.7, 0.8, 0.9], 0.75, lower_is_better=False) == 500
    assert experiment.late_slope(its, [6, 5, 4, 3, 3, 3]) == pytest.approx(0)
    assert experiment.late_slope(its, [6, 5, 4, 3, 2, 1]) == pytest.approx(-10)  # per 1000 iterations


def test_rescored_values_join_the_log_and_replace_the_final_scores(tmp_path):
    (tmp_path / runs.VAL_RESCORED).write_text('iteration,c2st,c2st_std,colour_js,gradient_js\n200,0.7,0.01,0.1,0.2\n')
    log = runs.merged([{'iteration': 100.0, 'texture_js': 0.5}, {'iteration': 200.0, 'texture_js': 0.4}], str(tmp_path))
    assert log[0]['c2st'] is None and log[1]['c2st'] == 0.7 and log[1]['texture_js'] == 0.4
    assert runs.rescored_final(str(tmp_path), {'c2st': 0.9}) == {'c2st': 0.9}
    (tmp_path / runs.RESCORED).write_text(json.dumps({'final': {'c2st': 0.8}}))
    assert runs.rescored_final(str(tmp_path), {'c2st': 0.9}) == {'c2st': 0.8}


def test_a_picture_grid_names_its_columns_and_rows(tmp_path):
    from PIL import Image
    colours = [[(255, 0, 0), (0, 255, 0)], [(0, 0, 255), (255, 255, 0)]]
    tiles = [[Image.new('RGB', (10, 8), c) for c in row] for row in colours]
    figures.save_grid(tiles, tmp_path / 'g.png', scale=4, titles=['real photo', 'SPADE'], row_titles=['sky', 'road'])
    grid = np.asarray(Image.open(tmp_path / 'g.png').convert('RGB')).astype(int)
    w, h = 40, 32
    top, left = grid.shape[0] - 2 * h, grid.shape[1] - 2 * w
    assert top > 0 and left > 0  # room for the titles
    for r in range(2):
        for c in range(2):
            assert (grid[top + r * h:top + (r + 1) * h, left + c * w:left + (c + 1) * w] == colours[r][c]).all()
    for c in range(2):  # each column's title is written above it, each row's left of it
        assert (grid[:top, left + c * w:left + (c + 1) * w] < 128).any()
    for r in range(2):
        assert (grid[top + r * h:top + (r + 1) * h, :left] < 128).any()
    assert (grid[:top, :left] == 255).all()
