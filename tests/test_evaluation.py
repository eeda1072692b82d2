"""Evaluation: FID/KID maths, networks matching the published weight files, the mIoU rules, both
segmentation sizes, the protocol line, evaluate.py (with opt.json defaults) and the results table."""
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

import evaluate
import evaluation.segmenters as segmenters
from data.demo_scenes import make_demo
from evaluation import fid as fidlib
from evaluation import table
from evaluation.inception import FID_WEIGHTS_URL, FIDInceptionV3, load_fid_inception
from evaluation.protocol import sha256_prefix
from evaluation.scoring import SegmentationScores, ground_truth
from evaluation.segmentation import confusion_matrix, label_space, mean_iou, per_class_iou, pixel_accuracy
from evaluation.segmenters import (DEEPLAB_URL, UPERNET_URL, Segmenter, build_segmenter, small_checkpoint)
from evaluation.segmenters.small import SmallUNet
from options.train_options import TrainOptions
from util.errors import UserError
from util.lbp import lbp_from_rgb8

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEIGHTS = os.path.join(ROOT, 'tests', 'data', 'weights')
# Entries of CSAIL's synchronised batch norm that some UperNet files carry and inference ignores.
SYNC_BN_BUFFERS = ('_tmp_running_mean', '_tmp_running_var', '_running_iter')


def read_tsv(name):
    """name -> shape of every entry of a weight-file listing ('scalar' -> ())."""
    shapes = {}
    with open(os.path.join(WEIGHTS, name)) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            key, shape = line.rstrip('\n').split('\t')
            shapes[key] = () if shape == 'scalar' else tuple(int(s) for s in shape.split('x'))
    return shapes


def assert_matches_tsv(module, name):
    expected = {k: s for k, s in read_tsv(name).items() if k.rsplit('.', 1)[-1] not in SYNC_BN_BUFFERS}
    own = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    # Older files may lack num_batches_tracked; BatchNorm loading accepts that (README).
    missing = [k for k in own if k not in expected and not k.endswith('num_batches_tracked')]
    assert not missing, missing[:5]
    assert not [k for k in expected if k not in own], [k for k in expected if k not in own][:5]
    assert {k: s for k, s in own.items() if k in expected} == expected


def rgb8(*shape, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)) \
        .permute(2, 0, 1)[None]


# ---------------------------------------------------------------- FID / KID

def test_frechet_distance_of_diagonal_gaussians_matches_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    v1, v2 = rng.uniform(0.2, 3, 6), rng.uniform(0.2, 3, 6)
    expected = ((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()
    assert fidlib.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-9)


def test_identical_activation_sets_give_zero_fid():
    acts = np.random.default_rng(1).normal(size=(40, 16))
    assert abs(fidlib.fid_from_activations(acts, acts)) < 1e-6


def test_few_samples_fid_equals_the_full_computation():
    # fewer samples than dimensions: singular covariances; the subspace shortcut must not change FID
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 40)), rng.normal(size=(7, 40)) + 0.5
    full = fidlib.frechet_distance(*fidlib.statistics(a), *fidlib.statistics(b))
    assert fidlib.fid_from_activations(a, b) == pytest.approx(full, rel=1e-6)
    assert abs(fidlib.fid_from_activations(a, a)) < 1e-4


def test_kid_is_the_unbiased_polynomial_mmd():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)) + 1

    def k(a, b):
        return (a @ b / 4 + 1) ** 3
    xx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(a, b) for a in x for b in y) / 25
    # subsets as large as the sets are permutations of them: every subset gives the same value
    mean, std = fidlib.kernel_inception_distance(x, y, num_subsets=3)
    assert mean == pytest.approx(xx + yy - 2 * xy) and std == pytest.approx(0, abs=1e-9)
    assert mean > 0



# ---------------------------------------------------------------- networks vs published files

def test_inception_matches_published_file_and_gives_2048_features():
    net = FIDInceptionV3().eval()
    assert_matches_tsv(net, 'pt_inception-2015-12-05-6726825d.tsv')
    with torch.no_grad():
        feats = net(torch.rand(2, 3, 40, 56) * 2 - 1)
    assert feats.shape == (2, 2048) and torch.isfinite(feats).all()


@pytest.mark.parametrize('name, classes, parts', [
    ('drn', 19, [('', 'drn_d_105_cityscapes.tsv')]),
    ('upernet', 150, [('encoder', 'ade20k-resnet101-upernet_encoder_epoch_50.tsv'),
                      ('decoder', 'ade20k-resnet101-upernet_decoder_epoch_50.tsv')]),
    ('deeplabv2', 182, [('', 'deeplabv2_resnet101_msc-cocostuff164k-100000.tsv')]),
])
def test_published_segmenters_match_their_files_and_predict_ids(name, classes, parts):
    seg = build_segmenter(name, None, None)
    for attr, tsv in parts:
        assert_matches_tsv(getattr(seg.net, attr) if attr else seg.net, tsv)
    pred = seg.predict(rgb8(64, 64))
    assert pred.shape == (1, 64, 64) and seg.num_classes == classes
    assert 0 <= int(pred.min()) and int(pred.max()) < classes


def test_small_segmenter_any_size_and_checkpoint_round_trip(tmp_path):
    net = SmallUNet(5)
    assert net(torch.rand(2, 3, 30, 45)).shape == (2, 5, 30, 45)
    path = str(tmp_path / 'seg.pth')
    torch.save(small_checkpoint(net, 5, 'demo'), path)
    seg = build_segmenter('small', None, path)
    assert seg.num_classes == 5 and seg.weight_files == (path,)
    x = rgb8(32, 32)
    # the loader's training input: x / 127.5 - 1
    assert torch.equal(seg.predict(x), net.eval()(x.float() / 127.5 - 1).argmax(1))
    with pytest.raises(UserError, match='trained for 5 classes'):
        build_segmenter('small', 7, path)


def test_segmenter_inputs_come_from_the_8bit_values_once():
    x = rgb8(4, 5)
    unit = x.double() / 255
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    upernet = build_segmenter('upernet', None, None)
    assert torch.allclose(upernet.normalise(x).double(), (unit - mean) / std, rtol=0, atol=2e-6)
    white = torch.full((1, 3, 1, 1), 255, dtype=torch.uint8)
    drn = build_segmenter('drn', None, None)
    assert torch.allclose(drn.normalise(white).flatten(),
                          (1 - torch.tensor([0.290101, 0.328081, 0.286964])) / torch.tensor([0.182954, 0.186566,
                                                                                              0.184475]))
    red = torch.tensor([255, 0, 0], dtype=torch.uint8).view(1, 3, 1, 1)
    dl = build_segmenter('deeplabv2', None, None)
    assert torch.equal(dl.normalise(red).flatten(), torch.tensor([-104.008, -116.669, 255 - 122.675]))


def test_missing_weight_files_name_the_file_and_where_it_is_published(tmp_path, monkeypatch):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(UserError) as e:
        load_fid_inception(missing)
    assert missing in str(e.value) and FID_WEIGHTS_URL in str(e.value)
    for name, url in (('drn', 'go.yf.io/drn-cityscapes-models'), ('deeplabv2', DEEPLAB_URL),
                      ('upernet', UPERNET_URL)):
        with pytest.raises(UserError) as e:
            build_segmenter(name, None, missing)
        assert missing in str(e.value) and url in str(e.value) and '\n' not in str(e.value)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))  # empty cache, and no download
    with pytest.raises(UserError, match='pt_inception-2015-12-05-6726825d.pth.*' + FID_WEIGHTS_URL):
        load_fid_inception('', download=False)
    # DRN's file has no download URL: the error says where it is published and where it goes
    cache = str(tmp_path / 'hub' / 'hub' / 'checkpoints' / 'drn-d-105_ms_cityscapes.pth')
    with pytest.raises(UserError, match='drn-d-105_ms_cityscapes.pth not found at ' + cache) as e:
        build_segmenter('drn', None, '')
    assert 'go.yf.io/drn-cityscapes-models' in str(e.value) and 'dl.yf.io' not in str(e.value)
    with pytest.raises(UserError, match='train_segmenter.py'):
        build_segmenter('small', None, missing)


class TinyUperNet(nn.Module):
    """Encoder and decoder with batch norms, standing in for the 60M-parameter UperNet."""

    def __init__(self, num_classes=150):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4))
        self.decoder = nn.Sequential(nn.Conv2d(4, num_classes, 1), nn.BatchNorm2d(num_classes))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def save_upernet(folder, net, sync_bn_buffers, drop=None):
    folder.mkdir(parents=True)
    for part, module in (('encoder', net.encoder), ('decoder', net.decoder)):
        state = module.state_dict()
        if sync_bn_buffers:
            for key in [k for k in state if k.endswith('.running_mean')]:
                prefix = key[:-len('running_mean')]
                state.update({prefix + b: torch.ones(1) for b in SYNC_BN_BUFFERS})
        state.pop(drop, None)
        torch.save(state, folder / f'{part}_epoch_50.pth')


def test_upernet_files_with_or_without_sync_bn_buffers_under_either_folder_name(tmp_path, monkeypatch):
    monkeypatch.setitem(segmenters.NETWORKS, 'upernet', TinyUperNet)
    torch.manual_seed(0)
    saved = TinyUperNet()
    for m in saved.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_()
    save_upernet(tmp_path / 'ckpt' / 'baseline-resnet101-upernet', saved, sync_bn_buffers=True)
    save_upernet(tmp_path / 'plain' / 'ade20k-resnet101-upernet', saved, sync_bn_buffers=False)
    for folder in (tmp_path / 'ckpt', tmp_path / 'ckpt' / 'baseline-resnet101-upernet',
                   tmp_path / 'plain', tmp_path / 'plain' / 'ade20k-resnet101-upernet'):
        seg = build_segmenter('upernet', None, str(folder))
        assert torch.equal(seg.net.decoder[1].running_mean, saved.decoder[1].running_mean)
        assert [os.path.basename(f) for f in seg.weight_files] == ['encoder_epoch_50.pth', 'decoder_epoch_50.pth']
    save_upernet(tmp_path / 'broken', saved, sync_bn_buffers=True, drop='1.running_var')
    with pytest.raises(UserError, match=r"encoder_epoch_50.pth: not the expected weight file "
                                        r"\(missing \['1.running_var'\]"):
        build_segmenter('upernet', None, str(tmp_path / 'broken'))


# ---------------------------------------------------------------- segmentation scores

# Rows: ground truth, columns: prediction. Class 0 in both, class 1 only predicted, class 2 in both,
# class 3 in neither. IoU: 2/4, 0/1, 1/2, undefined (0/0).
RULES_CONF = np.array([[2, 1, 0, 0],
                       [0, 0, 0, 0],
                       [1, 0, 1, 0],
                       [0, 0, 0, 0]])


def test_each_miou_rule_on_a_hand_made_confusion_matrix():
    assert np.allclose(per_class_iou(RULES_CONF)[:3], [1 / 2, 0, 1 / 2]) and np.isnan(per_class_iou(RULES_CONF)[3])
    assert mean_iou(RULES_CONF, 'union') == pytest.approx(1 / 3)  # fyu/drn: nanmean, (1/2 + 0 + 1/2) / 3
    assert mean_iou(RULES_CONF, 'all') == pytest.approx(1 / 4)  # CSAIL: inter / (union + 1e-10), all 4 classes
    assert mean_iou(RULES_CONF, 'gt') == pytest.approx(1 / 2)  # kazuto1011: classes 0 and 2, in the gt
    assert np.isnan(mean_iou(np.zeros((3, 3)), 'all'))
    with pytest.raises(ValueError, match='mIoU rule'):
        mean_iou(RULES_CONF, 'mean')


def test_confusion_matrix_and_accuracy_ignore_dontcare():
    gt = np.array([0, 0, 1, 1, 2, 255, 3])
    pred = np.array([0, 1, 1, 1, 0, 2, 1])
    conf = confusion_matrix(gt, pred, 3)  # 255 and 3 (dontcare of a 3-class set) are ignored
    assert conf.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert pixel_accuracy(conf) == pytest.approx(3 / 5)


def test_label_space_maps_cityscapes_ids_to_train_ids_and_ignores_dontcare_elsewhere():
    num, to_scored = label_space('cityscapes', 35)
    assert num == 19
    assert to_scored(np.array([[7, 26, 0], [33, 24, 34]])).tolist() == [[0, 13, 255], [18, 11, 255]]
    num, to_scored = label_space('ade20k', 150)
    assert num == 150 and to_scored(np.array([0, 149, 150])).tolist() == [0, 149, 255]


# ---------------------------------------------------------------- segmentation size

class SpyNet(nn.Module):
    """Predicts class 0 everywhere and records the input sizes it was given."""

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes, self.sizes = num_classes, []

    def forward(self, x):
        self.sizes.append(tuple(x.shape[2:]))
        logits = torch.zeros(x.shape[0], self.num_classes, *x.shape[2:])
        logits[:, 0] = 1
        return logits


@pytest.fixture(scope='module')
def city_results(tmp_path_factory):
    """Cityscapes-format data at 64x32 and test.py-like results at 32x16 (labels shrunk NEAREST)."""
    base = tmp_path_factory.mktemp('city')
    make_demo(str(base / 'data'), 'cityscapes', num_train=1, num_val=2, width=64, height=32, seed=4)
    images = base / 'results' / 'city' / 'val_latest' / 'images'
    for sub in ('synthesized_image', 'real_image', 'label_ids'):
        (images / sub).mkdir(parents=True)
    full = {}
    for path in sorted((base / 'data' / 'leftImg8bit' / 'val').rglob('*.png')):
        stem = path.stem
        label_path = str(path).replace('leftImg8bit', 'gtFine').replace('_gtFine.png', '_gtFine_labelIds.png')
        full[stem] = np.asarray(Image.open(label_path)).astype(np.int64)
        Image.open(path).resize((32, 16), Image.BICUBIC).save(images / 'synthesized_image' / f'{stem}.png')
        Image.open(path).resize((32, 16), Image.BICUBIC).save(images / 'real_image' / f'{stem}.png')
        Image.open(label_path).resize((32, 16), Image.NEAREST).save(images / 'label_ids' / f'{stem}.png')
    return base, images, full


def seg_cfg(base, seg_size):
    return SimpleNamespace(dataset_mode='cityscapes', phase='val', dataroot=str(base / 'data'), saved={},
                           miou_rule='union', seg_size=seg_size)


def test_seg_size_native_and_original_score_against_the_labels_of_that_size(city_results):
    base, images, full = city_results
    stems = sorted(full)
    synth = [np.array(Image.open(images / 'synthesized_image' / f'{s}.png')) for s in stems]
    native = [np.asarray(Image.open(images / 'label_ids' / f'{s}.png')) for s in stems]
    to_train_ids = label_space('cityscapes', 35)[1]
    confs = {}
    for seg_size, labels, size in (('native', native, (16, 32)), ('original', [full[s] for s in stems], (32, 64))):
        spy = SpyNet(19)
        num_classes, truth = ground_truth(seg_cfg(base, seg_size), 19, str(images))
        scores = SegmentationScores(Segmenter(spy, 19, 255.0, (0, 0, 0), (1, 1, 1)), num_classes, 'union',
                                    torch.device('cpu'))
        scores.add(synth, [truth(s, im.shape[:2]) for s, im in zip(stems, synth)])
        assert spy.sizes == [size]  # original: the 32x16 images upsampled to the 64x32 label files
        expected = sum(confusion_matrix(to_train_ids(lb), np.zeros(lb.shape, int), 19) for lb in labels)
        assert np.array_equal(scores.conf, expected)
        confs[seg_size] = scores.conf
    assert confs['original'].sum() > 3 * confs['native'].sum()  # 4x the pixels, scored at full resolution


def test_seg_size_original_names_a_result_without_a_label_file(city_results):
    base, images, full = city_results
    truth = ground_truth(seg_cfg(base, 'original'), 19, str(images))[1]
    with pytest.raises(UserError, match='stray: no label file for this result in --dataroot .* --phase val'):
        truth('stray', (16, 32))


# ---------------------------------------------------------------- evaluate.py end to end

def write_results(root, n=3, size=(24, 32), classes=4, same=True):
    images = root / 'demo_exp' / 'val_latest' / 'images'
    rng = np.random.default_rng(0)
    for sub in ('synthesized_image', 'real_image', 'label_ids', 'synthesized_lbp'):
        (images / sub).mkdir(parents=True)
    for i in range(n):
        real = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        fake = real if same else rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(real).save(images / 'real_image' / f'{i}.png')
        Image.fromarray(fake).save(images / 'synthesized_image' / f'{i}.png')
        Image.fromarray(rng.integers(0, classes + 1, size, dtype=np.uint8)).save(images / 'label_ids' / f'{i}.png')
        Image.fromarray(lbp_from_rgb8(fake)).save(images / 'synthesized_lbp' / f'{i}.png')
    return images


def write_opt_json(tmp_path, **options):
    folder = tmp_path / 'ck' / 'demo_exp'
    folder.mkdir(parents=True)
    (folder / 'opt.json').write_text(json.dumps(options))


def run_evaluate(tmp_path, *extra):
    return evaluate.main(['--name', 'demo_exp', '--results_dir', str(tmp_path), '--checkpoints_dir',
                          str(tmp_path / 'ck'), '--gpu_ids', '-1', '--batchSize', '2', *extra])


@pytest.mark.slow
def test_evaluate_end_to_end_with_random_weights_prints_and_stores_the_protocol(tmp_path, capsys):
    images = write_results(tmp_path)
    fid_path, seg_path = str(tmp_path / 'inception.pth'), str(tmp_path / 'seg.pth')
    inception = FIDInceptionV3()
    for m in inception.modules():  # PyTorch's default init makes the 2048 features all ~0
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
    torch.save(inception.state_dict(), fid_path)
    torch.save(small_checkpoint(SmallUNet(4), 4, 'demo'), seg_path)
    metrics = run_evaluate(tmp_path, '--dataset_mode', 'demo', '--fid_weights', fid_path, '--seg_weights', seg_path)
    saved = json.loads((images.parent / 'metrics.json').read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert saved['num_images'] == 3
    assert abs(saved['fid']) < 1e-3  # identical sets
    assert 0 <= saved['miou'] <= 1 and 0 <= saved['accuracy'] <= 1
    assert saved['lbp_distance'] == 0 and saved['lbp_map_distance'] == 0
    assert saved['protocol'] == {
        'segmenter': 'small', 'segmenter_weights': f'seg.pth sha256 {sha256_prefix(seg_path)}',
        'miou_rule': 'union', 'seg_size': 'native', 'fid_images': 3, 'fid_resize': 'bilinear to 299x299',
        'fid_weights': f'inception.pth sha256 {sha256_prefix(fid_path)}', 'lbp_variant': 'classic', 'c2st': None}
    out = capsys.readouterr().out.splitlines()
    assert out[0] == saved['protocol_line']
    assert out[0].startswith(f'protocol: segmenter small (seg.pth sha256 {sha256_prefix(seg_path)}); mIoU rule union')
    assert 'FID on 3 images resized bilinear to 299x299' in out[0] and 'not comparable to published FIDs' in out[0]
    assert out[-5] == table.row('demo_exp', saved) and f"| {100 * saved['miou']:.2f} (union) |" in out[-5]
    assert out[-4:] == table.reference_rows(saved)


def test_sha256_prefix_is_the_files_digest(tmp_path):
    path = tmp_path / 'w.pth'
    path.write_bytes(b'abc')
    assert sha256_prefix(str(path)) == 'ba7816bf'  # SHA-256('abc') = ba7816bf8f01cfea...


def test_evaluate_takes_dataset_mode_label_count_and_lbp_variant_from_opt_json(tmp_path, capsys):
    images = write_results(tmp_path, same=False)
    seg_path = tmp_path / 'ck' / 'segmenter_demo.pth'  # the default place, under --checkpoints_dir
    write_opt_json(tmp_path, dataset_mode='demo', label_nc=4, lbp_variant='skimage', dataroot='unused')
    torch.save(small_checkpoint(SmallUNet(4), 4, 'demo'), seg_path)
    metrics = run_evaluate(tmp_path, '--no_fid', '--miou_rule', 'all')
    assert metrics['dataset_mode'] == 'demo' and metrics['protocol']['miou_rule'] == 'all'
    assert metrics['protocol']['lbp_variant'] == 'skimage' and 'LBP skimage' in metrics['protocol_line']
    diffs = {variant: [] for variant in ('classic', 'skimage')}
    for variant, values in diffs.items():
        for i in range(3):
            fake, real = (np.array(Image.open(images / kind / f'{i}.png'))
                          for kind in ('synthesized_image', 'real_image'))
            values.append(np.abs(lbp_from_rgb8(fake, variant=variant).astype(int)
                                 - lbp_from_rgb8(real, variant=variant).astype(int)) / 255)
    assert metrics['lbp_distance'] == pytest.approx(np.mean(diffs['skimage']))
    assert metrics['lbp_distance'] != pytest.approx(np.mean(diffs['classic']))
    assert run_evaluate(tmp_path, '--no_fid', '--lbp_variant', 'classic')['lbp_distance'] == \
        pytest.approx(np.mean(diffs['classic']))
    # a label count other than the segmenter's is caught: opt.json's label_nc reaches the segmenter
    write_opt_json(tmp_path / 'other', dataset_mode='demo', label_nc=6)
    with pytest.raises(UserError, match='segmenter trained for 4 classes'):
        evaluate.main(['--name', 'demo_exp', '--results_dir', str(tmp_path), '--checkpoints_dir',
                       str(tmp_path / 'other' / 'ck'), '--seg_weights', str(seg_path), '--no_fid', '--gpu_ids', '-1'])


def test_evaluate_dataset_mode_errors(tmp_path):
    write_results(tmp_path)
    with pytest.raises(UserError, match=r'--dataset_mode not given and .*demo_exp/opt.json not found'):
        run_evaluate(tmp_path, '--no_fid', '--no_seg')
    write_opt_json(tmp_path, dataset_mode='demo')
    # the one rule of every tool: a value given wins over what the run fixed (test.py may test on other data)
    given = run_evaluate(tmp_path, '--dataset_mode', 'cityscapes', '--no_fid', '--no_seg')
    assert given['dataset_mode'] == 'cityscapes'
    assert run_evaluate(tmp_path, '--no_fid', '--no_seg')['dataset_mode'] == 'demo'
    with pytest.raises(UserError, match='--seg_size original .* pass --dataroot'):
        run_evaluate(tmp_path, '--seg_size', 'original', '--no_fid')


def test_evaluate_seg_size_original_on_the_dataset_files(city_results, tmp_path, capsys):
    base, images, full = city_results
    seg_path = str(tmp_path / 'seg19.pth')
    torch.save(small_checkpoint(SmallUNet(19), 19, 'cityscapes'), seg_path)
    # the opt.json train.py writes: dataset mode and dataroot come from it
    options = TrainOptions()
    options.save(options.parse(['--dataset_mode', 'cityscapes', '--dataroot', str(base / 'data'), '--name', 'city',
                                '--checkpoints_dir', str(tmp_path / 'ck'), '--gpu_ids', '-1']))
    metrics = evaluate.main(['--name', 'city', '--results_dir', str(base / 'results'), '--checkpoints_dir',
                             str(tmp_path / 'ck'), '--segmenter', 'small', '--seg_weights', seg_path,
                             '--seg_size', 'original', '--no_fid', '--gpu_ids', '-1'])
    assert metrics['dataset_mode'] == 'cityscapes' and metrics['protocol']['seg_size'] == 'original'
    assert metrics['miou'] is not None
    assert "seg size original: upsampled to the dataset's label files" in capsys.readouterr().out


def test_evaluate_lbp_distance_and_missing_weights(tmp_path, capsys):
    images = write_results(tmp_path, same=False)
    missing = str(tmp_path / 'none.pth')
    with pytest.raises(UserError, match='none.pth'):
        run_evaluate(tmp_path, '--dataset_mode', 'demo', '--fid_weights', missing, '--no_seg')
    metrics = run_evaluate(tmp_path, '--dataset_mode', 'demo', '--fid_weights', missing, '--seg_weights', missing,
                           '--allow_missing')
    assert metrics['fid'] is None and metrics['miou'] is None
    assert metrics['notes']['fid'].startswith('n/a: weights missing') and 'none.pth' in metrics['notes']['seg']
    diffs = []
    for i in range(3):
        fake = lbp_from_rgb8(np.array(Image.open(images / 'synthesized_image' / f'{i}.png'))).astype(int)
        real = lbp_from_rgb8(np.array(Image.open(images / 'real_image' / f'{i}.png'))).astype(int)
        diffs.append(np.abs(fake - real) / 255)
    assert metrics['lbp_distance'] == pytest.approx(np.mean(diffs))
    # synthesized_lbp holds LBP(synthesized) here, so both distances agree
    assert metrics['lbp_map_distance'] == pytest.approx(metrics['lbp_distance'])
    flat = 'n/a: no pixel away from a class boundary'  # the label maps here are per-pixel noise
    assert metrics['texture_js'] is None and metrics['notes']['texture'] == flat
    missing, few = 'n/a: weights missing', 'n/a: fewer than 16 images'
    expected = {'c2st': few, 'c2st_grey': few, 'colour_js': flat, 'gradient_js': flat, 'texture_js': flat,
                'texture_js_riu2': flat, 'texture_position': flat, 'miou': missing, 'accuracy': missing,
                'lbp_distance': f"{metrics['lbp_distance']:.4f}", 'fid': missing, 'kid': missing}
    row = '| demo_exp | ' + ' | '.join(expected[k] for k, _ in table.columns()) + ' |'
    out = capsys.readouterr().out.splitlines()
    assert out[-5] == row and out[-4].startswith('| reference: texture-free')  # the references follow the row
    assert metrics['protocol_line'] == 'protocol: no mIoU; no FID; LBP classic; no C2ST'


def test_allow_missing_does_not_hide_a_weight_file_that_is_there_but_wrong(tmp_path):
    write_results(tmp_path)
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(b'not a checkpoint')
    with pytest.raises(UserError, match='broken.pth: cannot be read'):
        run_evaluate(tmp_path, '--dataset_mode', 'demo', '--no_fid', '--seg_weights', str(broken), '--allow_missing')


def test_table_module_prints_the_rows_evaluate_prints(tmp_path):
    write_results(tmp_path)
    metrics = run_evaluate(tmp_path, '--dataset_mode', 'demo', '--no_fid', '--no_seg')
    result = subprocess.run([sys.executable, '-m', 'evaluation.table', str(tmp_path), 'demo_exp', 'never_run',
                             '--protocol'], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [*table.HEADER, table.row('demo_exp', metrics),
                                          '| never_run | not evaluated |' + ' |' * (len(table.columns()) - 1),
                                          *table.reference_rows(metrics),
                                          '', f"demo_exp: {metrics['protocol_line']}"]
    assert len(table.reference_rows(metrics)) == 4
    cells = dict(zip([k for k, _ in table.columns()], table.row('demo_exp', metrics)[2:-2].split(' | ')[1:]))
    assert (cells['miou'], cells['accuracy'], cells['fid']) == ('skipped', 'skipped', 'skipped')


def test_train_segmenter_writes_a_checkpoint_evaluate_can_load(tmp_path, monkeypatch):
    import importlib.util
    import data.demo_dataset
    monkeypatch.setattr(data.demo_dataset, 'SCENES', {'num_train': 4, 'num_val': 2, 'width': 64, 'height': 32})
    path = os.path.join(ROOT, 'scripts', 'train_segmenter.py')
    spec = importlib.util.spec_from_file_location('train_segmenter', path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = str(tmp_path / 'seg.pth')
    script.main(['--dataroot', str(tmp_path / 'demo'), '--dataset_mode', 'demo', '--out', out, '--iters', '2',
                 '--gpu_ids', '-1', '--nThreads', '0', '--batchSize', '2', '--load_size', '64', '--crop_size', '64'])
    seg = build_segmenter('small', None, out)
    assert seg.num_classes == 35 and not [f for f in os.listdir(tmp_path) if '.tmp' in f]


def test_evaluate_names_every_missing_weight_file_at_once_before_any_scoring(tmp_path, monkeypatch):
    write_results(tmp_path)
    import evaluation.run
    monkeypatch.setattr(evaluation.run, 'score_folder', lambda *a: pytest.fail('scored without its weights'))
    fid, seg = str(tmp_path / 'no_inception.pth'), str(tmp_path / 'no_deeplab.pth')
    with pytest.raises(UserError) as e:
        run_evaluate(tmp_path, '--dataset_mode', 'coco', '--fid_weights', fid, '--seg_weights', seg)
    message = str(e.value)
    assert message.startswith('2 weight files are missing (pass --allow_missing to report their metrics as n/a)')
    assert fid in message and FID_WEIGHTS_URL in message and '--no_fid' in message  # the file, where, and the skip
    assert seg in message and DEEPLAB_URL in message and '--no_seg' in message
    assert message.index('(1) FID/KID') < message.index('(2) mIoU') and '\n' not in message
    # one missing file: its own message, with --allow_missing offered too
    with pytest.raises(UserError) as e:
        run_evaluate(tmp_path, '--dataset_mode', 'coco', '--no_fid', '--seg_weights', seg)
    assert str(e.value).startswith(f'--seg_weights {seg}: no such file') and '--allow_missing' in str(e.value)
