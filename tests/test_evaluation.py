"""Evaluation: FID/KID maths, networks matching the published weight files, mIoU, evaluate.py."""
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

import evaluate
from evaluation import fid as fidlib
from evaluation.inception import FID_WEIGHTS_URL, FIDInceptionV3, load_fid_inception
from evaluation.segmentation import (cityscapes_train_ids, confusion_matrix, mean_iou, per_class_iou,
                                     pixel_accuracy)
from evaluation.segmenters import DEEPLAB_URL, DRN_URL, UPERNET_URL, build_segmenter, small_checkpoint
from evaluation.segmenters.small import SmallUNet
from util.errors import UserError
from util.lbp import lbp_from_rgb8

WEIGHTS = os.path.join(os.path.dirname(__file__), 'data', 'weights')


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
    expected = read_tsv(name)
    own = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    # Older files may lack num_batches_tracked; BatchNorm loading accepts that (README).
    missing = [k for k in own if k not in expected and not k.endswith('num_batches_tracked')]
    assert not missing, missing[:5]
    assert not [k for k in expected if k not in own], [k for k in expected if k not in own][:5]
    assert {k: s for k, s in own.items() if k in expected} == expected


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
    pred = seg.predict(torch.rand(1, 3, 64, 64) * 2 - 1)
    assert pred.shape == (1, 64, 64) and seg.num_classes == classes
    assert 0 <= int(pred.min()) and int(pred.max()) < classes


def test_small_segmenter_any_size_and_checkpoint_round_trip(tmp_path):
    net = SmallUNet(5)
    assert net(torch.rand(2, 3, 30, 45)).shape == (2, 5, 30, 45)
    path = str(tmp_path / 'seg.pth')
    torch.save(small_checkpoint(net, 5, 'demo'), path)
    seg = build_segmenter('small', None, path)
    assert seg.num_classes == 5
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.equal(seg.predict(x), net.eval()(x).argmax(1))
    with pytest.raises(UserError, match='trained for 5 classes'):
        build_segmenter('small', 7, path)


def test_segmenter_input_conventions():
    white = torch.ones(1, 3, 1, 1)
    drn = build_segmenter('drn', None, None)
    assert torch.allclose(drn.normalise(white).flatten(),
                          (1 - torch.tensor([0.290101, 0.328081, 0.286964])) / torch.tensor([0.182954, 0.186566,
                                                                                              0.184475]))
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    dl = build_segmenter('deeplabv2', None, None)
    assert torch.allclose(dl.normalise(red).flatten(), torch.tensor([-104.008, -116.669, 255 - 122.675]))


def test_missing_weight_files_name_the_file_and_url(tmp_path, monkeypatch):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(UserError) as e:
        load_fid_inception(missing)
    assert missing in str(e.value) and FID_WEIGHTS_URL in str(e.value)
    for name, url in (('drn', DRN_URL), ('deeplabv2', DEEPLAB_URL), ('upernet', UPERNET_URL)):
        with pytest.raises(UserError) as e:
            build_segmenter(name, None, missing)
        assert missing in str(e.value) and url in str(e.value)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))  # empty cache, and no download
    with pytest.raises(UserError, match='pt_inception-2015-12-05-6726825d.pth.*' + FID_WEIGHTS_URL):
        load_fid_inception('', download=False)
    with pytest.raises(UserError, match='train_segmenter.py'):
        build_segmenter('small', None, missing)


# ---------------------------------------------------------------- segmentation scores

def test_miou_and_accuracy_on_a_hand_made_confusion_matrix():
    gt = np.array([0, 0, 1, 1, 2, 255, 3])
    pred = np.array([0, 1, 1, 1, 0, 2, 1])
    conf = confusion_matrix(gt, pred, 3)  # 255 and 3 (dontcare of a 3-class set) are ignored
    assert conf.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    # IoU: class 0 1/(2+2-1), class 1 2/(2+3-2), class 2 0/(1+0-0)
    assert np.allclose(per_class_iou(conf), [1 / 3, 2 / 3, 0])
    assert mean_iou(conf) == pytest.approx(1 / 3)
    assert pixel_accuracy(conf) == pytest.approx(3 / 5)
    # with 5 classes id 3 counts (IoU 0) and class 1 gains a false positive (2/4); class 4 is in
    # neither ground truth nor prediction and is left out of the mean
    assert mean_iou(confusion_matrix(gt, pred, 5)) == pytest.approx((1 / 3 + 1 / 2 + 0 + 0) / 4)
    assert mean_iou(np.pad(conf, (0, 1))) == pytest.approx(1 / 3)


def test_cityscapes_label_ids_map_to_train_ids():
    ids = np.array([[7, 26, 0], [33, 24, 34]])
    assert cityscapes_train_ids(ids).tolist() == [[0, 13, 255], [18, 11, 255]]


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


def run_evaluate(tmp_path, *extra):
    return evaluate.main(['--name', 'demo_exp', '--results_dir', str(tmp_path), '--dataset_mode', 'demo',
                          '--gpu_ids', '-1', '--batchSize', '2', *extra])


def test_evaluate_end_to_end_with_random_weights(tmp_path):
    images = write_results(tmp_path)
    fid_path, seg_path = str(tmp_path / 'inception.pth'), str(tmp_path / 'seg.pth')
    inception = FIDInceptionV3()
    for m in inception.modules():  # PyTorch's default init makes the 2048 features all ~0
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
    torch.save(inception.state_dict(), fid_path)
    torch.save(small_checkpoint(SmallUNet(4), 4, 'demo'), seg_path)
    metrics = run_evaluate(tmp_path, '--fid_weights', fid_path, '--seg_weights', seg_path)
    with open(images.parent / 'metrics.json') as f:
        saved = json.load(f)
    assert saved == json.loads(json.dumps(metrics))
    for key in ('fid', 'kid', 'kid_std', 'miou', 'accuracy', 'lbp_distance', 'lbp_map_distance', 'num_images'):
        assert key in saved
    assert saved['num_images'] == 3
    assert abs(saved['fid']) < 1e-3  # identical sets
    assert 0 <= saved['miou'] <= 1 and 0 <= saved['accuracy'] <= 1
    assert saved['lbp_distance'] == 0 and saved['lbp_map_distance'] == 0


def test_evaluate_lbp_distance_and_missing_weights(tmp_path, capsys):
    images = write_results(tmp_path, same=False)
    missing = str(tmp_path / 'none.pth')
    with pytest.raises(UserError, match='none.pth'):
        run_evaluate(tmp_path, '--fid_weights', missing, '--no_seg')
    metrics = run_evaluate(tmp_path, '--fid_weights', missing, '--seg_weights', missing, '--allow_missing')
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
    assert '| demo_exp | n/a | n/a | n/a | n/a |' in capsys.readouterr().out


def test_train_segmenter_writes_a_checkpoint_evaluate_can_load(tmp_path, monkeypatch):
    import importlib.util
    import data.demo_dataset
    monkeypatch.setattr(data.demo_dataset, 'SCENES', {'num_train': 4, 'num_val': 2, 'width': 64, 'height': 32})
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'scripts', 'train_segmenter.py')
    spec = importlib.util.spec_from_file_location('train_segmenter', path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = str(tmp_path / 'seg.pth')
    script.main(['--dataroot', str(tmp_path / 'demo'), '--dataset_mode', 'demo', '--out', out, '--iters', '2',
                 '--gpu_ids', '-1', '--nThreads', '0', '--batchSize', '2', '--load_size', '64', '--crop_size', '64'])
    seg = build_segmenter('small', None, out)
    assert seg.num_classes == 35 and not [f for f in os.listdir(tmp_path) if '.tmp' in f]
