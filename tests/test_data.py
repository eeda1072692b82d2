"""Tests of data/: every dataset mode on tiny generated data, transforms, input checks, loader."""
import filecmp
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

import data
import data.demo_dataset
from data.transforms import Preprocess, get_params, sample_generator, transform_image, transform_label
from data.demo_scenes import make_demo
from models.config import ModelConfig
from options.test_options import TestOptions
from options.train_options import TrainOptions
from conftest import NO_CHECKPOINTS, resolved
from util.errors import UserError


# Custom-dataset palette: the image is palette[label], so alignment can be checked exactly.
PALETTE = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40], [40, 220, 220]], np.uint8)
# Options that hand a 64x48 custom sample back unchanged: a 64x48 crop of it, no flip.
AS_IS = ('--preprocess_mode', 'crop', '--crop_size', 64, '--aspect_ratio', 64 / 48, '--no_flip')


def parse(*args, train=True):
    options = TrainOptions() if train else TestOptions()
    return resolved(options, ['--gpu_ids', '-1', '--nThreads', '0', '--checkpoints_dir', NO_CHECKPOINTS, *args])


def build(*args, train=True):
    return data.create_dataset(parse(*args, train=train))


def raw(path):
    return np.asarray(Image.open(path)).astype(np.int64)


@pytest.fixture
def city_copy(demo_roots, tmp_path):
    """A writable copy of the Cityscapes demo, for breaking it."""
    return shutil.copytree(demo_roots / 'cityscapes', tmp_path / 'city')


def write_custom(root, n=4, size=(64, 48), image_mode='RGB'):
    """Custom dataset of asymmetric stripe/block labels whose images are palette[label]."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    for d in ('img', 'lab'):
        os.makedirs(root / d, exist_ok=True)
    for i in range(n):
        label = ((x // (8 + 2 * i)) + (y // 12) * (i + 1)) % len(PALETTE)
        # an adaptive palette keeps the 5 colours exact (the default web palette dithers)
        Image.fromarray(PALETTE[label]).convert(image_mode, palette=Image.Palette.ADAPTIVE).save(
            root / 'img' / f's{i}.png')
        Image.fromarray(label.astype(np.uint8)).save(root / 'lab' / f's{i}.png')
    return ['--dataset_mode', 'custom', '--image_dir', root / 'img', '--label_dir', root / 'lab', '--label_nc', 5]


def check_sample(sample, h, w):
    assert sample['label'].shape == (1, h, w) and sample['label'].dtype == torch.long
    assert sample['image'].shape == (3, h, w) and sample['image'].dtype == torch.float32
    assert -1 <= sample['image'].min() and sample['image'].max() <= 1
    assert isinstance(sample['path'], str) and os.path.isfile(sample['path'])


# ---------------------------------------------------------------- the dataset modes

def test_cityscapes_sample_matches_files(demo_roots):
    ds = build('--dataroot', demo_roots / 'cityscapes', '--dataset_mode', 'cityscapes', '--load_size', 64,
               '--crop_size', 64, '--no_flip')
    assert len(ds) == 6
    s = ds[0]
    check_sample(s, 32, 64)  # fixed: crop_size x crop_size / aspect_ratio 2
    assert s['path'].endswith('_leftImg8bit.png')
    prefix = os.path.basename(s['path'])[:-len('_leftImg8bit.png')]
    assert os.path.basename(ds.label_paths[0]) == prefix + '_gtFine_labelIds.png'
    label, inst = s['label'][0].numpy(), s['instance'][0].numpy()
    np.testing.assert_array_equal(label, raw(ds.label_paths[0]))
    assert set(np.unique(label)) <= {1, 7, 8, 11, 17, 21, 22, 23, 24, 26}
    # instanceIds: stuff holds its class id, cars/persons class*1000+k
    np.testing.assert_array_equal(np.where(inst >= 1000, inst // 1000, inst), label)
    assert (inst >= 26000).any()
    image = np.asarray(Image.open(s['path']), np.float32) / 127.5 - 1
    np.testing.assert_allclose(s['image'].permute(1, 2, 0).numpy(), image, atol=1e-6)


def test_ade20k_dontcare_is_shifted_to_150(demo_roots):
    opt = parse('--dataroot', demo_roots / 'ade20k', '--dataset_mode', 'ade20k', '--load_size', 32,
                '--crop_size', 32)
    assert (opt.label_nc, opt.contain_dontcare_label, opt.no_instance) == (150, True, True)
    assert ModelConfig.from_options(opt).semantic_nc == 151
    ds = data.create_dataset(opt)
    s = ds[1]
    check_sample(s, 32, 32)
    label, file = s['label'][0].numpy(), raw(ds.label_paths[1])
    if not np.array_equal(label, np.where(file == 0, 150, file - 1)):  # may be flipped
        label = label[:, ::-1]
    np.testing.assert_array_equal(label, np.where(file == 0, 150, file - 1))
    assert 150 in label and 0 in file  # the ego-vehicle bonnet is unlabelled in ADE20K
    assert set(np.unique(file)) <= {0, 2, 3, 5, 7, 10, 12, 13, 21, 94}
    assert s['instance'].shape == () and s['instance'].item() == 0


def test_coco_dontcare_and_instances(demo_roots):
    opt = parse('--dataroot', demo_roots / 'coco', '--dataset_mode', 'coco', '--load_size', 32, '--crop_size', 32,
                '--no_flip')
    assert (opt.label_nc, opt.contain_dontcare_label) == (182, True)
    assert ModelConfig.from_options(opt).semantic_nc == 184
    ds = data.create_dataset(opt)
    s = ds[2]
    check_sample(s, 32, 32)
    file = raw(ds.label_paths[2])
    np.testing.assert_array_equal(s['label'][0].numpy(), np.where(file == 255, 182, file))
    assert 182 in s['label'] and set(np.unique(file)) <= {255, 156, 95, 148, 139, 168, 123, 131, 2, 0}
    np.testing.assert_array_equal(s['instance'][0].numpy(), raw(ds.instance_paths[2]))
    assert s['instance'].max() >= 1


def test_no_instance_gives_zero(demo_roots):
    opt = parse('--dataroot', demo_roots / 'cityscapes', '--dataset_mode', 'cityscapes', '--load_size', 64,
                '--crop_size', 64, '--no_instance')
    assert ModelConfig.from_options(opt).semantic_nc == 35
    s = data.create_dataset(opt)[0]
    assert s['instance'].dtype == torch.long and s['instance'].shape == () and s['instance'].item() == 0


def test_test_phase_defaults(demo_roots):
    opt = parse('--dataroot', demo_roots / 'ade20k', '--dataset_mode', 'ade20k', train=False)
    assert (opt.phase, opt.load_size, opt.crop_size, opt.preprocess_mode) == ('val', 256, 256, 'resize_and_crop')
    assert parse('--dataset_mode', 'coco').load_size == 286
    city = parse('--dataset_mode', 'cityscapes')
    assert (city.label_nc, city.aspect_ratio, city.load_size, city.preprocess_mode) == (35, 2.0, 512, 'fixed')
    assert not city.contain_dontcare_label
    opt = parse('--dataroot', demo_roots / 'ade20k', '--dataset_mode', 'ade20k', '--load_size', 32,
                '--crop_size', 32, train=False)
    assert len(data.create_dataset(opt)) == 2  # val reads images/validation


def test_custom_dataset(tmp_path):
    args = write_custom(tmp_path, n=3)
    opt = parse(*args, '--load_size', 48, '--crop_size', 32)
    assert opt.no_instance and opt.label_nc == 5  # no --instance_dir: no instances by default
    ds = data.create_dataset(opt)
    assert len(ds) == 3 and ds[0]['path'].endswith('s0.png')
    check_sample(ds[0], 32, 32)


def test_custom_instance_dir(tmp_path):
    args = write_custom(tmp_path, n=2)
    shutil.copytree(tmp_path / 'lab', tmp_path / 'inst')
    opt = parse(*args, '--instance_dir', tmp_path / 'inst', *AS_IS)
    assert not opt.no_instance
    s = data.create_dataset(opt)[1]
    assert torch.equal(s['instance'], s['label'])


def test_custom_needs_dirs(tmp_path):
    with pytest.raises(UserError, match='--image_dir'):
        build('--dataset_mode', 'custom', '--label_dir', tmp_path)


# ---------------------------------------------------------------- transforms

def assert_aligned(image, label):
    """Away from class borders the image must be exactly palette[label]."""
    interior = np.ones(label.shape, bool)
    for k in np.unique(label):
        # bicubic upsampling blends about 2 source pixels (3-4 here) on each side of an edge,
        # also of edges just outside the crop window: hence border_value=0
        inside = ndimage.binary_erosion(label == k, np.ones((9, 9)), border_value=0)
        interior &= inside | (label != k)
    expected = PALETTE[label].astype(np.float32) / 127.5 - 1
    got = image.permute(1, 2, 0).numpy()
    assert interior.sum() > 200
    np.testing.assert_allclose(got[interior], expected[interior], atol=2.5 / 127.5)


def test_crop_and_flip_keep_image_and_label_aligned(tmp_path):
    args = write_custom(tmp_path)
    opt = parse(*args, '--load_size', 96, '--crop_size', 64)  # resize to 96x96 then crop 64x64
    ds = data.create_dataset(opt)
    image = Image.open(ds.image_paths[1]).convert('RGB')
    label = raw(ds.label_paths[1])
    resized = np.asarray(Image.fromarray(label.astype(np.int32)).resize((96, 96), Image.Resampling.NEAREST))
    prep = data.preprocess(opt)
    assert prep == Preprocess('resize_and_crop', 96, 64, 1.0, flip=True)
    for params in ({'crop_pos': (7, 20), 'flip': True}, {'crop_pos': (32, 0), 'flip': False}):
        img_t, lab_t = transform_image(image, prep, params), transform_label(label, prep, params)
        assert img_t.shape == (3, 64, 64) and lab_t.shape == (1, 64, 64)
        assert_aligned(img_t, lab_t[0].numpy())
        x, y = params['crop_pos']
        crop = resized[y:y + 64, x:x + 64]
        np.testing.assert_array_equal(lab_t[0].numpy(), crop[:, ::-1] if params['flip'] else crop)
    # The dataset draws one crop/flip per (seed, epoch, index), the same for all maps.
    flips = set()
    for epoch in range(8):
        params = get_params(prep, image.size, generator=sample_generator(opt.seed, epoch, 1))
        s = ds[(epoch, 1)]
        assert torch.equal(s['label'], transform_label(label, prep, params))
        assert_aligned(s['image'], s['label'][0].numpy())
        flips.add(params['flip'])
    assert flips == {True, False}


@pytest.mark.parametrize('mode,size', [('scale_width_and_crop', (24, 24)), ('scale_shortside_and_crop', (24, 24)),
                                       ('scale_width', (40, 30)), ('scale_shortside', (53, 40)),
                                       ('fixed', (24, 12)), ('none', (64, 64)), ('crop', (24, 24))])
def test_preprocess_modes(tmp_path, mode, size):
    args = write_custom(tmp_path, n=1, size=(64, 48))  # 64x48 -> load_size 40, crop_size 24
    extra = ['--aspect_ratio', 2.0] if mode == 'fixed' else []
    opt = parse(*args, '--preprocess_mode', mode, '--load_size', 40, '--crop_size', 24, '--no_flip', *extra)
    s = data.create_dataset(opt)[0]
    w, h = size
    assert s['image'].shape == (3, h, w) and s['label'].shape == (1, h, w)
    assert set(s['label'].unique().tolist()) <= set(range(5))


def test_augmentation_is_a_function_of_seed_epoch_and_index(tmp_path):
    prep = data.preprocess(parse(*write_custom(tmp_path, n=1), '--load_size', 96, '--crop_size', 32))
    draws = []
    for seed, epoch in ((0, 0), (0, 0), (1, 0), (0, 1)):
        draws.append([tuple(get_params(prep, (64, 48), generator=sample_generator(seed, epoch, i)).values())
                      for i in range(5)])
    assert draws[0] == draws[1] and draws[0] != draws[2] and draws[0] != draws[3]


def test_crop_bigger_than_image_is_refused(tmp_path):
    opt = parse(*write_custom(tmp_path, n=1), '--load_size', 24, '--crop_size', 32)
    with pytest.raises(UserError, match=r's0.png: 64x48 becomes 24x24 .* --load_size'):
        data.create_dataset(opt)[0]


# ---------------------------------------------------------------- bad inputs

def test_missing_dataroot_shows_layout(tmp_path):
    with pytest.raises(UserError, match=r'nope not found; expected <dataroot>/leftImg8bit/train/<city>/'):
        build('--dataroot', tmp_path / 'nope', '--dataset_mode', 'cityscapes')


def test_missing_subfolder_shows_layout(city_copy):
    shutil.rmtree(city_copy / 'gtFine')
    with pytest.raises(UserError, match=r'gtFine/train not found; expected .*_gtFine_labelIds.png'):
        build('--dataroot', city_copy, '--dataset_mode', 'cityscapes')


def test_coco_without_inst_folder_asks_for_no_instance(demo_roots, tmp_path):
    root = shutil.copytree(demo_roots / 'coco', tmp_path / 'coco')
    shutil.rmtree(root / 'train_inst')
    with pytest.raises(UserError, match=r'train_inst not found.*--no_instance'):
        build('--dataroot', root, '--dataset_mode', 'coco')
    assert len(build('--dataroot', root, '--dataset_mode', 'coco', '--no_instance')) == 6


def test_count_mismatch(city_copy):
    label = sorted((city_copy / 'gtFine' / 'train').rglob('*_labelIds.png'))[0]
    os.remove(label)
    image = str(label).replace('gtFine', 'leftImg8bit').replace('_leftImg8bit_labelIds', '_leftImg8bit')
    with pytest.raises(UserError, match=r'5 label maps but 6 images, 6 instance maps \(or pass --no_instance\) '
                                        rf'for --phase train, {re.escape(image)} has no label map; every image'):
        build('--dataroot', city_copy, '--dataset_mode', 'cityscapes')


def test_missing_instance_maps(city_copy):
    for f in (city_copy / 'gtFine' / 'train').rglob('*_instanceIds.png'):
        os.remove(f)
    with pytest.raises(UserError, match=r'6 label maps but 6 images, 0 instance maps \(or pass --no_instance\)'):
        build('--dataroot', city_copy, '--dataset_mode', 'cityscapes')
    assert len(build('--dataroot', city_copy, '--dataset_mode', 'cityscapes', '--no_instance')) == 6


def test_name_mismatch_and_no_pairing_check(city_copy):
    label = sorted((city_copy / 'gtFine' / 'train').rglob('*_labelIds.png'))[-1]
    renamed = label.with_name('zzz_000000_000000_gtFine_labelIds.png')
    os.rename(label, renamed)
    with pytest.raises(UserError) as e:
        build('--dataroot', city_copy, '--dataset_mode', 'cityscapes', '--no_instance')
    msg = str(e.value)
    assert str(renamed) in msg and label.name.replace('gtFine_labelIds', 'leftImg8bit') in msg
    assert '--no_pairing_check' in msg
    ds = build('--dataroot', city_copy, '--dataset_mode', 'cityscapes', '--no_instance', '--no_pairing_check')
    assert len(ds) == 6 and ds.label_paths[-1] == str(renamed)


def test_max_dataset_size(demo_roots):
    ds = build('--dataroot', demo_roots / 'cityscapes', '--dataset_mode', 'cityscapes', '--max_dataset_size', 4)
    assert len(ds) == 4 and ds.image_paths == sorted(ds.image_paths)


def test_empty_split(city_copy):
    for f in (city_copy / 'leftImg8bit' / 'val').rglob('*.png'):
        os.remove(f)
    with pytest.raises(UserError, match=r'no images found in --dataroot .* for --phase val; expected'):
        build('--dataroot', city_copy, '--dataset_mode', 'cityscapes', '--phase', 'val')


def test_label_value_out_of_range(tmp_path):
    args = write_custom(tmp_path, n=2)
    label = raw(tmp_path / 'lab' / 's1.png')
    label[3, 3] = 7
    Image.fromarray(label.astype(np.uint8)).save(tmp_path / 'lab' / 's1.png')
    ds = build(*args, '--load_size', 48, '--crop_size', 32)
    ds[0]
    with pytest.raises(UserError, match=r's1.png: label value\(s\) 7 out of range for --label_nc 5 .*--label_nc'):
        ds[1]


def test_dontcare_255_becomes_label_nc(tmp_path):
    args = write_custom(tmp_path, n=1)
    label = raw(tmp_path / 'lab' / 's0.png')
    label[:, -10:] = 255
    Image.fromarray(label.astype(np.uint8)).save(tmp_path / 'lab' / 's0.png')
    with pytest.raises(UserError, match='value\\(s\\) 255 out of range .* without --contain_dontcare_label'):
        build(*args, '--load_size', 48, '--crop_size', 32)[0]
    s = build(*args, *AS_IS, '--contain_dontcare_label')[0]
    assert (s['label'][0, :, -10:] == 5).all() and s['label'][0, :, :-10].max() < 5


@pytest.mark.parametrize('damage', ['truncated', 'empty'])
def test_broken_files_are_named(tmp_path, damage):
    args = write_custom(tmp_path, n=2)
    for kind in ('img', 'lab'):
        path = tmp_path / kind / 's1.png'
        content = path.read_bytes()
        path.write_bytes(content[: len(content) // 2] if damage == 'truncated' else b'')
        ds = build(*args, '--load_size', 48, '--crop_size', 32)
        with pytest.raises(UserError, match=rf'{kind}/s1.png: cannot read'):
            ds[1]
        path.write_bytes(content)


def test_size_mismatch_names_both_files(tmp_path):
    args = write_custom(tmp_path, n=1)
    Image.open(tmp_path / 'img' / 's0.png').resize((32, 24)).save(tmp_path / 'img' / 's0.png')
    with pytest.raises(UserError, match=r'lab/s0.png is 64x48 but its image .*img/s0.png is 32x24'):
        build(*args, '--load_size', 48, '--crop_size', 32)[0]


@pytest.mark.parametrize('mode', ['L', 'P', 'RGBA'])
def test_grey_palette_rgba_images_become_rgb(tmp_path, mode):
    args = write_custom(tmp_path, n=1, image_mode=mode)
    assert Image.open(tmp_path / 'img' / 's0.png').mode == mode
    s = build(*args, *AS_IS)[0]
    expected = np.asarray(Image.open(tmp_path / 'img' / 's0.png').convert('RGB'), np.float32) / 127.5 - 1
    np.testing.assert_allclose(s['image'].permute(1, 2, 0).numpy(), expected, atol=1e-6)
    if mode == 'L':
        assert torch.equal(s['image'][0], s['image'][1])
    else:  # palette and RGBA files keep their colours
        np.testing.assert_allclose(expected, PALETTE[s['label'][0].numpy()] / 127.5 - 1, atol=1e-6)


@pytest.mark.parametrize('mode', ['P', 'I;16', 'LA'])
def test_palette_and_16bit_labels_read_as_ids(tmp_path, mode):
    args = write_custom(tmp_path, n=1)
    ids = raw(tmp_path / 'lab' / 's0.png')
    if mode == 'P':
        img = Image.fromarray(ids.astype(np.uint8), 'L').convert('P')
        img.putpalette(PALETTE[::-1].ravel().tolist() + [0] * (768 - PALETTE.size))  # colours unlike the ids
    elif mode == 'LA':
        img = Image.fromarray(ids.astype(np.uint8)).convert('LA')
    else:
        img = Image.fromarray(ids.astype(np.uint16))
    img.save(tmp_path / 'lab' / 's0.png')
    assert Image.open(tmp_path / 'lab' / 's0.png').mode == mode
    s = build(*args, *AS_IS)[0]
    np.testing.assert_array_equal(s['label'][0].numpy(), ids)


def test_colour_label_is_refused(tmp_path):
    args = write_custom(tmp_path, n=1)
    Image.fromarray(PALETTE[raw(tmp_path / 'lab' / 's0.png')]).save(tmp_path / 'lab' / 's0.png')
    with pytest.raises(UserError, match=r's0.png: label map is a colour \(RGB\) image'):
        build(*args, '--load_size', 48, '--crop_size', 32)[0]


# ---------------------------------------------------------------- demo, generator, loader

def test_demo_generates_on_first_use(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data.demo_dataset, 'SCENES', {'num_train': 5, 'num_val': 2, 'width': 256, 'height': 128})
    root = tmp_path / 'demo'
    opt = parse('--dataroot', root)
    assert (opt.dataset_mode, opt.label_nc, opt.aspect_ratio, opt.load_size, opt.crop_size, opt.batchSize,
            opt.preprocess_mode, opt.display_winsize, opt.contain_dontcare_label) == \
        ('demo', 35, 2.0, 128, 128, 4, 'fixed', 128, False)
    ds = data.create_dataset(opt)
    assert 'generating' in capsys.readouterr().out
    assert len(ds) == 5 and (root / 'leftImg8bit' / 'val' / 'frankfurt').is_dir()
    s = ds[0]
    check_sample(s, 64, 128)
    assert s['instance'].shape == (1, 64, 128)
    data.create_dataset(opt)
    assert 'generating' not in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ['demo']  # no temporary folder left behind
    os.makedirs(tmp_path / 'empty')
    assert len(data.create_dataset(parse('--dataroot', tmp_path / 'empty'))) == 5


def test_make_demo_is_deterministic(tmp_path):
    for name, seed in (('a', 5), ('b', 5), ('c', 6)):
        make_demo(str(tmp_path / name), 'coco', num_train=3, num_val=1, width=48, height=32, seed=seed)
    files = [os.path.join(d, f) for d in ('train_img', 'train_label', 'train_inst', 'val_img') for f in
             os.listdir(tmp_path / 'a' / d)]
    assert len(files) == 10
    assert filecmp.cmpfiles(tmp_path / 'a', tmp_path / 'b', files, shallow=False)[0] == files
    assert not np.array_equal(raw(tmp_path / 'a' / 'train_label' / '000000000001.png'),
                              raw(tmp_path / 'c' / 'train_label' / '000000000001.png'))


def test_dataloader_batches(demo_roots):
    opt = parse('--dataroot', demo_roots / 'cityscapes', '--dataset_mode', 'cityscapes', '--load_size', 64,
                '--crop_size', 64, '--batchSize', 4)
    loader = data.create_dataloader(opt)
    batches = list(loader)
    assert len(batches) == 1  # 6 samples, drop_last when training
    b = batches[0]
    assert b['label'].shape == (4, 1, 32, 64) and b['instance'].shape == (4, 1, 32, 64)
    assert b['image'].shape == (4, 3, 32, 64) and len(b['path']) == 4


def test_dataloader_workers_are_reproducible(demo_roots):
    opt = parse('--dataroot', demo_roots / 'ade20k', '--dataset_mode', 'ade20k', '--load_size', 40,
                '--crop_size', 32, '--batchSize', 3, '--nThreads', 1, '--seed', 7)
    first = [next(iter(data.create_dataloader(opt))) for _ in range(2)]
    assert first[0]['path'] == first[1]['path'] and torch.equal(first[0]['image'], first[1]['image'])


def test_a_loader_still_open_at_exit_lets_the_interpreter_exit(demo_roots):
    # Python's exit ends the workers of a loader still alive with SIGTERM and waits for them, with no timeout
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("from options.train_options import TrainOptions; import data; o = TrainOptions(); "
            f"opt = o.resolve(o.parse(['--dataroot', {str(demo_roots / 'ade20k')!r}, '--dataset_mode', 'ade20k', "
            "'--crop_size', '32', '--batchSize', '2', '--nThreads', '1', '--gpu_ids', '-1', '--checkpoints_dir', "
            f"{NO_CHECKPOINTS!r}])); loader = data.create_dataloader(opt); batch = next(iter(loader)); print('read')")
    done = subprocess.run([sys.executable, '-c', code], cwd=root, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0 and done.stdout.endswith('read\n'), done.stderr


def test_dataloader_refuses_batch_bigger_than_data(demo_roots):
    opt = parse('--dataroot', demo_roots / 'cityscapes', '--dataset_mode', 'cityscapes', '--batchSize', 8)
    with pytest.raises(UserError, match=r'6 training samples per process, fewer than --batchSize 8'):
        data.create_dataloader(opt)
