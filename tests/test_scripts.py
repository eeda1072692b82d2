"""The shell scripts: syntax, and the per-dataset scripts stop before any training when a folder or
weight file is missing, with a non-zero exit and a message naming what is missing."""
import glob
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, 'scripts')
DATASETS = ('cityscapes', 'ade20k', 'coco', 'camvid')
# The first folder each script looks for inside an existing but empty DATAROOT (mode all = train first).
FIRST_MISSING = {'cityscapes': 'leftImg8bit/train', 'ade20k': 'images/training', 'coco': 'train_img', 'camvid': 'train'}
# Enough of each dataset's layout for the data checks to pass.
LAYOUT = {'cityscapes': ('leftImg8bit/train', 'gtFine/train', 'leftImg8bit/val', 'gtFine/val'),
          'ade20k': ('images/training', 'annotations/training', 'images/validation', 'annotations/validation'),
          'coco': ('train_img', 'train_label', 'train_inst', 'val_img', 'val_label', 'val_inst'),
          'camvid': ('train', 'trainannot', 'val', 'valannot')}
# Each script's global batch and epochs (SPADE's; CamVid's are its dataset defaults for a CPU).
GLOBAL_BATCH = {'cityscapes': 16, 'ade20k': 32, 'coco': 32, 'camvid': 4}
EPOCHS = {'cityscapes': 200, 'ade20k': 200, 'coco': 100, 'camvid': 10}


def run(dataset, tmp_path, *args, scripts=SCRIPTS, **env):
    """Run <scripts>/<dataset>.sh from tmp_path with a clean environment and an empty torch hub."""
    base = {k: v for k, v in os.environ.items()
            if k not in ('DATAROOT', 'GPUS', 'VGG_WEIGHTS', 'FID_WEIGHTS', 'SEG_WEIGHTS', 'NO_VGG', 'DOWNLOAD',
                         'NO_INSTANCE', 'SEG_SIZE')}
    base['TORCH_HOME'] = str(tmp_path / 'torch_home')  # no weight file can be found there
    base.update({k: str(v) for k, v in env.items()})
    return subprocess.run(['bash', os.path.join(scripts, f'{dataset}.sh'), *args], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=60)


def make_layout(root, dataset):
    for sub in LAYOUT[dataset]:
        (root / sub).mkdir(parents=True)


def assert_fails(result, *needles):
    assert result.returncode != 0, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert '== train' not in result.stdout, 'started training'
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bash_syntax():
    scripts = sorted(glob.glob(os.path.join(SCRIPTS, '*.sh')))
    assert len(scripts) >= 5
    for script in scripts:
        result = subprocess.run(['bash', '-n', script], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"


@pytest.mark.parametrize('dataset', DATASETS)
def test_empty_dataroot_fails_naming_the_folder(dataset, tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    result = run(dataset, tmp_path, DATAROOT=root)
    assert_fails(result, str(root / FIRST_MISSING[dataset]), 'expected layout')


@pytest.mark.parametrize('dataset', DATASETS)
def test_missing_dataroot_fails(dataset, tmp_path):
    result = run(dataset, tmp_path, 'train', DATAROOT='no/such/folder')  # relative to the caller
    assert_fails(result, str(tmp_path / 'no/such/folder'), 'not found')


def test_missing_vgg_weights_fail_before_training(tmp_path):
    make_layout(tmp_path / 'data', 'cityscapes')
    result = run('cityscapes', tmp_path, 'train', DATAROOT=tmp_path / 'data')
    assert_fails(result, 'vgg19-dcbb9e9d.pth', 'NO_VGG=1')


def test_missing_eval_weights_fail_before_training(tmp_path):
    make_layout(tmp_path / 'data', 'ade20k')
    result = run('ade20k', tmp_path, 'all', DATAROOT=tmp_path / 'data', NO_VGG=1)
    assert_fails(result, 'pt_inception-2015-12-05-6726825d.pth')
    result = run('ade20k', tmp_path, 'all', DATAROOT=tmp_path / 'data', NO_VGG=1,
                 FID_WEIGHTS=tmp_path / 'missing.pth')
    assert_fails(result, str(tmp_path / 'missing.pth'))


def test_coco_without_instance_maps_needs_no_inst_folders(tmp_path):
    root = tmp_path / 'data'
    for sub in ('train_img', 'train_label'):
        (root / sub).mkdir(parents=True)
    assert_fails(run('coco', tmp_path, 'train', DATAROOT=root), str(root / 'train_inst'))
    # with NO_INSTANCE=1 the data check passes and the VGG check is next
    assert_fails(run('coco', tmp_path, 'train', DATAROOT=root, NO_INSTANCE=1), 'vgg19-dcbb9e9d.pth')


def test_bad_mode_and_gpus(tmp_path):
    assert_fails(run('coco', tmp_path, 'bogus'), "mode 'bogus'")
    make_layout(tmp_path / 'data', 'cityscapes')
    assert_fails(run('cityscapes', tmp_path, 'train', DATAROOT=tmp_path / 'data', NO_VGG=1, GPUS=3),
                 'GPUS=3', '16')


SEGMENTER_FILES = {'cityscapes': ('drn-d-105_ms_cityscapes.pth',),
                   'ade20k': ('ade20k-resnet101-upernet_encoder_epoch_50.pth',
                              'ade20k-resnet101-upernet_decoder_epoch_50.pth'),
                   'coco': ('deeplabv2_resnet101_msc-cocostuff164k-100000.pth',),
                   'camvid': ()}  # (trained by camvid.sh when missing)


@pytest.mark.parametrize('dataset', DATASETS)
def test_ablation_commands_parse(dataset, tmp_path):
    """DRY_RUN=1 prints the 5 x (train, test, evaluate) commands; train.py / test.py / evaluate.py accept them.
    (camvid.sh also prints its segmenter's training when checkpoints/segmenter_camvid.pth is missing.)"""
    import evaluate
    from options.test_options import TestOptions
    from options.train_options import TrainOptions
    make_layout(tmp_path / 'data', dataset)
    hub = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    for name in ('vgg19-dcbb9e9d.pth', 'pt_inception-2015-12-05-6726825d.pth') + SEGMENTER_FILES[dataset]:
        (hub / name).touch()
    result = run(dataset, tmp_path, 'ablation', DATAROOT=tmp_path / 'data', DRY_RUN=1, GPUS=2, SEG_SIZE='original')
    assert result.returncode == 0, result.stderr
    commands = [line[2:].split() for line in result.stdout.splitlines() if line.startswith('+ ')
                and 'train_segmenter.py' not in line]
    assert len(commands) == 15
    names = set()
    for cmd in commands:
        script = next(w for w in cmd if w.endswith('.py'))
        args = cmd[cmd.index(script) + 1:]
        names.add(args[args.index('--name') + 1])
        if script == 'train.py':
            assert cmd[0] == 'torchrun' and '--nproc_per_node' in cmd
            opt = TrainOptions().parse(args)
            assert opt.batchSize * 2 == GLOBAL_BATCH[dataset]
            assert opt.niter + opt.niter_decay == EPOCHS[dataset]
            if opt.name.endswith('_spade'):
                assert opt.netG == 'spade'
            else:
                assert opt.netG == 'ulbp' and opt.no_lbp_D == (not opt.name.endswith(('_ulbpgan', '_lbpconv')))
                spade_norm = opt.name.endswith('_lbp_generator')
                assert opt.norm_G.startswith('spectralspade' if spade_norm else 'spectralmfade')
                assert (opt.nhidden_lbp == 0) == opt.name.endswith('_lbpconv')
        elif script == 'test.py':
            TestOptions().parse(args)
        else:
            opt = evaluate.parse_args(args)
            assert opt.seg_size == 'original' and opt.dataroot == str(tmp_path / 'data')
    assert names == {f'{dataset}_{row}' for row in ('spade', 'lbp_generator', 'mfade', 'ulbpgan', 'lbpconv')}


def camvid_commands(result):
    assert result.returncode == 0, result.stderr
    return [line[2:].split() for line in result.stdout.splitlines() if line.startswith('+ ')]


def test_camvid_trains_from_its_defaults_and_its_segmenter_when_missing(tmp_path):
    """No VGG file needed (the dataset's default decides); the segmenter is trained first when missing, at
    evaluate.py's default path. The scripts run from a copy, whose checkpoints/ is empty."""
    copy = tmp_path / 'repo' / 'scripts'
    copy.mkdir(parents=True)
    for name in ('common.sh', 'camvid.sh', 'ablation.py'):
        shutil.copy(os.path.join(SCRIPTS, name), copy)
    make_layout(tmp_path / 'data', 'camvid')
    (tmp_path / 'fid.pth').touch()
    env = {'DATAROOT': tmp_path / 'data', 'DRY_RUN': 1, 'FID_WEIGHTS': tmp_path / 'fid.pth'}
    commands = camvid_commands(run('camvid', tmp_path, scripts=copy, **env))
    assert [c[1] for c in commands] == ['scripts/train_segmenter.py', 'train.py', 'test.py', 'evaluate.py']
    assert commands[0][commands[0].index('--out') + 1] == 'checkpoints/segmenter_camvid.pth'
    from options.train_options import TrainOptions
    given = TrainOptions().parse(commands[1][2:])
    defaults = TrainOptions().parse(['--dataset_mode', 'camvid'])
    keys = ('batchSize', 'niter', 'niter_decay', 'crop_size', 'aspect_ratio', 'ngf', 'no_vgg_loss', 'amp')
    assert {k: getattr(given, k) for k in keys} == {k: getattr(defaults, k) for k in keys}
    (tmp_path / 'repo' / 'checkpoints').mkdir()
    (tmp_path / 'repo' / 'checkpoints' / 'segmenter_camvid.pth').touch()
    result = run('camvid', tmp_path, 'eval', scripts=copy, **env)
    assert_fails(result, 'no results/camvid_ulbpgan/val_latest/images/')  # (not the segmenter)


def test_camvid_seg_weights_must_exist_when_given(tmp_path):
    make_layout(tmp_path / 'data', 'camvid')
    (tmp_path / 'fid.pth').touch()
    env = {'DATAROOT': tmp_path / 'data', 'DRY_RUN': 1, 'FID_WEIGHTS': tmp_path / 'fid.pth', 'SEG_WEIGHTS': 'seg.pth'}
    assert_fails(run('camvid', tmp_path, 'all', **env), f"SEG_WEIGHTS={tmp_path / 'seg.pth'} does not exist")
    (tmp_path / 'seg.pth').touch()
    commands = camvid_commands(run('camvid', tmp_path, 'all', **env))
    assert [c[1] for c in commands] == ['train.py', 'test.py', 'evaluate.py']
    assert commands[2][-2:] == ['--seg_weights', str(tmp_path / 'seg.pth')]


def hub_with(tmp_path, *names):
    hub = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    for name in names:
        (hub / name).touch()


def test_drn_weights_are_checked_even_with_download_and_name_their_page(tmp_path):
    make_layout(tmp_path / 'data', 'cityscapes')
    hub_with(tmp_path, 'pt_inception-2015-12-05-6726825d.pth')
    for download in ('0', '1'):  # fyu/drn publishes no file URL, so DOWNLOAD=1 cannot fetch it
        result = run('cityscapes', tmp_path, 'all', DATAROOT=tmp_path / 'data', NO_VGG=1, DRY_RUN=1, DOWNLOAD=download)
        assert_fails(result, 'drn-d-105_ms_cityscapes.pth not found', 'go.yf.io/drn-cityscapes-models')
        assert 'DOWNLOAD=1' not in result.stderr and 'dl.yf.io' not in result.stderr
    assert_fails(run('cityscapes', tmp_path, 'all', DATAROOT=tmp_path / 'data', NO_VGG=1, SEG_SIZE='full'),
                 'SEG_SIZE=full: choose native or original')


def test_upernet_weights_under_either_folder_name(tmp_path):
    make_layout(tmp_path / 'data', 'ade20k')
    hub_with(tmp_path, 'pt_inception-2015-12-05-6726825d.pth', 'baseline-resnet101-upernet_encoder_epoch_50.pth',
             'baseline-resnet101-upernet_decoder_epoch_50.pth')
    assert run('ade20k', tmp_path, 'all', DATAROOT=tmp_path / 'data', NO_VGG=1, DRY_RUN=1).returncode == 0
    ckpt = tmp_path / 'ckpt' / 'baseline-resnet101-upernet'
    ckpt.mkdir(parents=True)
    (ckpt / 'encoder_epoch_50.pth').touch()
    assert_fails(run('ade20k', tmp_path, 'all', DATAROOT=tmp_path / 'data', NO_VGG=1, DRY_RUN=1,
                     SEG_WEIGHTS=tmp_path / 'ckpt'),
                 str(tmp_path / 'ckpt' / 'decoder_epoch_50.pth'), 'baseline-resnet101-upernet/')
    (ckpt / 'decoder_epoch_50.pth').touch()
    result = run('ade20k', tmp_path, 'all', DATAROOT=tmp_path / 'data', NO_VGG=1, DRY_RUN=1,
                 SEG_WEIGHTS=tmp_path / 'ckpt')
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize('fmt, label', [
    ('cityscapes', 'gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_labelIds.png'),
    ('ade20k', 'annotations/validation/ADE_val_00000001.png'),
    ('coco', 'val_label/000000000003.png')])
def test_demo_scenes_command_line_writes_each_format(fmt, label, tmp_path):
    out = tmp_path / fmt
    result = subprocess.run([sys.executable, '-m', 'data.demo_scenes', '--format', fmt, '--out', str(out),
                             '--num_train', '2', '--num_val', '1', '--width', '32', '--height', '16'],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f'{fmt} demo: 2 train + 1 val scenes of 32x16' in result.stdout
    assert Image.open(out / label).size == (32, 16)


def gpu_check(tmp_path, *args, **env):
    base = {**os.environ, 'GPU_CHECK_DIR': str(tmp_path / 'gc'), 'OMP_NUM_THREADS': '1',
            **{k: str(v) for k, v in env.items()}}
    return subprocess.run(['bash', os.path.join(SCRIPTS, 'gpu_check.sh'), *args], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_gpu_check_dry_run_runs_every_step_on_the_cpu_and_writes_one_table(demo_city, tmp_path):
    result = gpu_check(tmp_path, DATAROOT=demo_city, DRY_RUN=1)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = (tmp_path / 'gc' / 'gpu_check.md').read_text()
    assert report.startswith('GPU check (dry run on the CPU') and 'machine: CPU ' in report
    rows = {line.split(' | ')[0][2:]: line.split(' | ') for line in report.splitlines() if line.startswith('| ')}
    header = rows.pop('step')
    assert header[3:7] == ['img/s', 's/iter', 'peak memory (MB)', 'lookup ÷ dense (s/iter)']
    rows = {k: v for k, v in rows.items() if not k.startswith('---')}
    assert list(rows) == ['demo fp32', 'demo bf16', 'demo fp16', 'demo torchrun x1 (NCCL)', 'test.py (demo fp32)',
                          'benchmark, label convs lookup ulbp fp32', 'benchmark, label convs lookup spade fp32',
                          'benchmark, label convs dense ulbp fp32', 'benchmark, label convs dense spade fp32']
    number = lambda cell: float(cell) > 0
    assert rows['demo fp32'][1].startswith('cpu') and all(number(c) for c in rows['demo fp32'][3:6])
    assert 'skipped: dry run: fp32 only' in rows['demo bf16'][-1] and 'fp16 needs CUDA' in rows['demo fp16'][-1]
    assert 'NCCL needs CUDA' in rows['demo torchrun x1 (NCCL)'][-1]
    assert number(rows['test.py (demo fp32)'][3]) and '2 images' in rows['test.py (demo fp32)'][-1]
    for model in ('ulbp', 'spade'):
        lookup, dense = (rows[f'benchmark, label convs {convs} {model} fp32'] for convs in ('lookup', 'dense'))
        assert number(lookup[6]) and dense[6] == '–' and 'label convs dense' in dense[-1]
        assert float(lookup[6]) == pytest.approx(float(lookup[4]) / float(dense[4]), rel=0.1)  # (rounded cells)


def test_gpu_check_without_cuda_or_with_a_bad_argument_says_what_to_do(tmp_path):
    result = gpu_check(tmp_path, '--bogus')
    assert result.returncode == 1 and "unknown argument '--bogus'" in result.stderr
    if not torch_has_cuda():
        result = gpu_check(tmp_path)
        assert result.returncode == 1 and '--dry-run' in result.stderr.strip().splitlines()[-1]


def torch_has_cuda():
    import torch
    return torch.cuda.is_available()
