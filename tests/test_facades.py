"""--dataset_mode facades (the CMP Facade Database's base set) on a tiny folder of its layout that the tests write
(64x64 files; the real photos are never needed): the split by number, ids 1-12 as 0-11, bad values, colours,
a short train + test.py on the test split, and scripts/facades.sh."""
import os
import shutil

import numpy as np
import pytest
from PIL import Image

import data
import test as test_py  # the project's test.py
import train
from conftest import NO_CHECKPOINTS, resolved
from data import check_labels, label_maps, palettes
from data.facades_dataset import FacadesDataset
from models.config import ModelConfig
from options.test_options import TestOptions
from options.train_options import TrainOptions
from synth_helpers import single_thread
from test_scripts import SCRIPTS, assert_fails, run
from util.errors import DataError, UserError

NUMBERS = {'train': (1, 2, 300), 'val': (301, 338), 'test': (339, 378)}  # each split's first and last number
PALETTE = np.array(((0, 0, 0),) + FacadesDataset.COLORS, np.uint8)  # by file value, as the real PNGs' palette


def values_of(i, size=64):
    """The file values 1..12 in blocks, shifted per sample."""
    y, x = np.mgrid[0:size, 0:size]
    return ((x // 8 + (y // 16) * 4 + i) % 12 + 1).astype(np.uint8)


def save_label(values, path):
    """A palette PNG, as the base set stores its labels."""
    img = Image.fromarray(values, 'P')
    img.putpalette(PALETTE.ravel().tolist())
    img.save(path)


def write_facades(root):
    """The base/ folder's layout: cmp_bNNNN.jpg photos, cmp_bNNNN.png labels, and .xml files to ignore."""
    root.mkdir(parents=True)
    for i, number in enumerate(n for numbers in NUMBERS.values() for n in numbers):
        values = values_of(i)
        Image.fromarray(PALETTE[values]).save(root / f'cmp_b{number:04d}.jpg', quality=95)
        save_label(values, root / f'cmp_b{number:04d}.png')
        (root / f'cmp_b{number:04d}.xml').write_text('<object></object>')
    return root


@pytest.fixture
def facades(tmp_path):
    return write_facades(tmp_path / 'facades')


def options(root, *args, train=True):
    opts = TrainOptions() if train else TestOptions()
    return resolved(opts, ['--dataset_mode', 'facades', '--dataroot', root, '--gpu_ids', '-1', '--nThreads', '0',
                           '--checkpoints_dir', NO_CHECKPOINTS, *args])


def test_defaults_are_a_square_cpu_sized_model_with_12_classes(facades):
    opt = options(facades)
    assert (opt.label_nc, opt.contain_dontcare_label, opt.no_instance) == (12, False, True)
    assert ModelConfig.from_options(opt).semantic_nc == 12
    assert (opt.crop_size, opt.aspect_ratio, opt.preprocess_mode, opt.num_upsampling_layers) == (128, 1.0, 'fixed',
                                                                                                 'normal')
    assert (opt.batchSize, opt.ngf, opt.ndf, opt.nhidden, opt.name) == (4, 16, 16, 32, 'facades')
    assert (opt.niter, opt.niter_decay) == (5, 5)
    no_root = resolved(TrainOptions(), ['--dataset_mode', 'facades', '--checkpoints_dir', NO_CHECKPOINTS])
    assert no_root.dataroot == './datasets/facades'
    assert options(facades, train=False).phase == 'val'


def test_the_split_is_by_file_number_and_ids_are_the_values_less_one(facades):
    for phase, numbers in NUMBERS.items():
        ds = data.create_dataset(options(facades, '--phase', phase))
        assert [os.path.basename(p) for p in ds.image_paths] == [f'cmp_b{n:04d}.jpg' for n in numbers]
        assert [os.path.basename(p) for p in ds.label_paths] == [f'cmp_b{n:04d}.png' for n in numbers]
    s = data.create_dataset(options(facades, '--crop_size', 64, '--no_flip'))[1]
    assert s['label'].shape == (1, 64, 64) and s['image'].shape == (3, 64, 64) and s['instance'].item() == 0
    np.testing.assert_array_equal(s['label'][0].numpy(), values_of(1).astype(np.int64) - 1)  # background is id 0
    image = (s['image'].permute(1, 2, 0).numpy() + 1) * 127.5  # the photo stays aligned: its pixels' nearest
    nearest = np.abs(image[:, :, None] - PALETTE[None, None]).sum(-1).argmin(-1)  # palette colours are their
    assert (nearest == values_of(1)).mean() > 0.9  # labels' (but where JPEG blurs an edge)
    big = data.create_dataset(options(facades))[0]  # the default: resized whole to 128x128
    assert big['label'].shape == (1, 128, 128) and set(big['label'].unique().tolist()) == set(range(12))
    with pytest.raises(UserError, match=r'--phase training: the CMP Facade base set is split into train, val, test'):
        data.create_dataset(options(facades, '--phase', 'training'))


def test_bad_input_is_one_line_naming_the_file(facades, tmp_path):
    with pytest.raises(UserError, match=r'--dataroot .*nowhere not found; expected <dataroot>/cmp_bNNNN\.jpg photos '
                                        r'.*NNNN 0001-0300 .*folder base/ of https://github\.com/Thunderwisking'):
        data.create_dataset(options(tmp_path / 'nowhere'))
    os.remove(facades / 'cmp_b0300.png')
    with pytest.raises(UserError, match=r'2 label maps but 3 images .*cmp_b0300\.jpg has no label map'):
        data.create_dataset(options(facades))
    save_label(values_of(0), facades / 'cmp_b0300.png')
    for value in (0, 13):
        bad = values_of(0)
        bad[:2] = value
        save_label(bad, facades / 'cmp_b0002.png')
        with pytest.raises(UserError) as error:
            data.create_dataset(options(facades))[1]
        message = str(error.value)
        assert '\n' not in message and message.startswith(f'{facades / "cmp_b0002.png"}: label value(s) {value} out')
        assert 'hold 1-12 (1 background, 2 facade' in message and 'base/' in message
    opt = options(facades, '--nThreads', 1, '--batchSize', 1, '--serial_batches')
    with pytest.raises(DataError) as through_worker:
        list(data.create_dataloader(opt))
    assert str(through_worker.value) == message


def test_colours_are_the_label_pngs_own_and_read_back(facades, tmp_path, capsys):
    opt = options(facades)
    classes = palettes.classes_for(opt)
    assert [name for _, name, _ in classes] == ['background', 'facade', 'window', 'door', 'cornice', 'sill', 'balcony',
                                               'blind', 'deco', 'molding', 'pillar', 'shop']  # no don't care
    np.testing.assert_array_equal(palettes.drawing_colors(opt)[:12], PALETTE[1:])  # test.py draws them
    # a real label file shown in its own palette (converted to RGB) reads back as the model's ids
    rgb = tmp_path / 'as_shown.png'
    Image.open(facades / 'cmp_b0001.png').convert('RGB').save(rgb)
    label = label_maps.read_label_map(str(rgb), opt)
    assert "CMP Facades' colours" in label.how and (label.ids == values_of(0) - 1).all()
    assert (label_maps.read_label_map(str(facades / 'cmp_b0001.png'), opt).ids == values_of(0) - 1).all()
    save_label(np.full((4, 4), 13, np.uint8), tmp_path / 'thirteen.png')
    with pytest.raises(UserError, match=r'value 13 \(16 px\) is no class of this model, which reads 1-12 '
                                        r'\(CMP Facade values, 1 = background \.\.\. 12 = shop\)'):
        label_maps.read_label_map(str(tmp_path / 'thirteen.png'), opt)
    lines, _ = check_labels.report(str(tmp_path))  # a folder of such pictures is named as the dataset's colours
    assert "  all colours are CMP Facades' colours (its label PNGs')" in lines


def test_trains_and_tests_on_the_test_split(facades, tmp_path):
    ck, results = tmp_path / 'ck', tmp_path / 'results'
    with single_thread():
        train.main(['--dataset_mode', 'facades', '--dataroot', str(facades), '--checkpoints_dir', str(ck), '--ngf', '4',
                    '--ndf', '4', '--nhidden', '8', '--ngf_lbp', '4', '--batchSize', '1', '--nThreads', '0',
                    '--gpu_ids', '-1', '--no_vgg_loss', '--no_tf_log', '--amp', 'none', '--max_iters', '1'])
        test_py.main(['--name', 'facades', '--checkpoints_dir', str(ck), '--results_dir', str(results), '--phase',
                      'test', '--gpu_ids', '-1', '--nThreads', '0'])
    images = results / 'facades' / 'test_latest' / 'images'
    assert sorted(os.listdir(images / 'synthesized_image')) == ['cmp_b0339.png', 'cmp_b0378.png']
    ids = np.asarray(Image.open(images / 'label_ids' / 'cmp_b0378.png'))
    drawn = np.asarray(Image.open(images / 'input_label' / 'cmp_b0378.png').convert('RGB'))
    assert ids.shape == (128, 128) and ids.max() == 11
    np.testing.assert_array_equal(drawn, PALETTE[ids + 1])


def test_script_checks_the_folder_then_runs_the_dataset_defaults(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert_fails(run('facades', tmp_path, DATAROOT=empty), f"'{empty}' holds no cmp_b*.png", 'Thunderwisking')
    assert_fails(run('facades', tmp_path, 'train', DATAROOT='no/such'), str(tmp_path / 'no/such'), 'not found')
    copy = tmp_path / 'repo' / 'scripts'  # (its checkpoints/ is empty: the segmenter is trained first)
    copy.mkdir(parents=True)
    for name in ('common.sh', 'facades.sh', 'ablation.py'):
        shutil.copy(os.path.join(SCRIPTS, name), copy)
    root = write_facades(tmp_path / 'data')
    (tmp_path / 'fid.pth').touch()
    result = run('facades', tmp_path, scripts=copy, DATAROOT=root, DRY_RUN=1, FID_WEIGHTS=tmp_path / 'fid.pth')
    assert result.returncode == 0, result.stderr
    commands = [line[2:].split() for line in result.stdout.splitlines() if line.startswith('+ ')]
    assert [c[1] for c in commands] == ['scripts/train_segmenter.py', 'train.py', 'test.py', 'evaluate.py']
    assert commands[0][commands[0].index('--out') + 1] == 'checkpoints/segmenter_facades.pth'
    given = TrainOptions().parse(commands[1][2:])
    defaults = TrainOptions().parse(['--dataset_mode', 'facades'])
    keys = ('dataset_mode', 'batchSize', 'niter', 'niter_decay', 'crop_size', 'aspect_ratio', 'ngf', 'no_vgg_loss')
    assert {k: getattr(given, k) for k in keys} == {k: getattr(defaults, k) for k in keys}
    assert given.dataroot == str(root) and given.name == 'facades_ulbpgan'
