"""The texture metric (evaluation/texture.py): its pieces, its references' order, and evaluate.py's report."""
import glob
import json

import numpy as np
import pytest
from PIL import Image

import evaluate
from data.demo_scenes import make_demo
from evaluation import table, texture
from tests.conftest import tiny_opt
from util.lbp import lbp_from_rgb8


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    """12 demo val scenes at 128×64: (real images, raw label ids)."""
    root = tmp_path_factory.mktemp('tex')
    make_demo(str(root), fmt='cityscapes', num_train=1, num_val=12, width=128, height=64)
    reals, labels = [], []
    for path in sorted(glob.glob(str(root / 'leftImg8bit' / 'val' / '*' / '*.png'))):
        reals.append(np.array(Image.open(path).convert('RGB')))
        label = path.replace('leftImg8bit', 'gtFine', 1).replace('_leftImg8bit', '_gtFine_labelIds')
        labels.append(np.array(Image.open(label)).astype(np.int64))
    return reals, labels


def test_riu2_bins_count_the_ones_of_uniform_codes_and_pool_the_rest():
    assert texture.RIU2[0] == 0 and texture.RIU2[255] == 8
    assert texture.RIU2[0b00000001] == 1 and texture.RIU2[0b10000001] == 2  # wraps around the circle
    assert texture.RIU2[0b00000101] == 9 and texture.RIU2[0b01010101] == 9  # 4 and 8 transitions
    assert np.bincount(texture.RIU2).tolist() == [1, 8, 8, 8, 8, 8, 8, 8, 1, 198]  # 58 uniform codes


def test_interior_excludes_class_boundaries_and_the_image_border():
    labels = np.zeros((6, 7), int)
    labels[:, 4:] = 1
    mask = texture.interior(labels)
    assert not mask[0].any() and not mask[-1].any() and not mask[:, 0].any() and not mask[:, -1].any()
    assert mask[1:5, 1:3].all() and not mask[:, 3:5].any() and mask[1:5, 5].all()


def test_js_is_zero_for_the_same_histogram_one_bit_for_disjoint_ones():
    assert texture.js_bits(np.array([3, 1, 0]), np.array([6, 2, 0])) == 0
    assert texture.js_bits(np.array([1, 0]), np.array([0, 5])) == pytest.approx(1)


def test_histograms_count_each_class_codes_over_its_interior():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    labels = np.zeros((10, 12), int)
    labels[:, 6:] = 3
    h = texture.TextureHistograms('classic')
    h.add(image, labels)
    codes, mask = lbp_from_rgb8(image), texture.interior(labels)
    assert h.counts.shape == (4, 256)
    assert np.array_equal(h.counts[3], np.bincount(codes[mask & (labels == 3)], minlength=256))
    assert h.counts[1:3].sum() == 0 and h.riu2().sum() == mask.sum()


def test_references_come_out_in_order_and_real_against_itself_is_zero(scenes):
    reals, labels = scenes
    refs = texture.references(reals, labels, 'classic')
    for key in ('texture_js', 'texture_js_riu2'):
        js = {name: refs[name][key] for name in texture.REFERENCES}
        # real against real is nearest, then the blurred real image; noise is not texture, flat is none
        assert js['real_vs_real'] < js['blurred'] < min(js['noise'], js['texture_free']), (key, js)
    same = texture.TextureDivergence('classic')
    for im, lb in zip(reals, labels):
        same.add(im, im, lb)
    assert same.result()['texture_js'] == 0
    assert texture.position(refs['blurred']['texture_js'], refs) == pytest.approx(
        (refs['texture_free']['texture_js'] - refs['blurred']['texture_js'])
        / (refs['texture_free']['texture_js'] - refs['real_vs_real']['texture_js']))


def write_results(root, reals, labels, render):
    images = root / 'demo_exp' / 'val_latest' / 'images'
    for sub in ('synthesized_image', 'real_image', 'label_ids'):
        (images / sub).mkdir(parents=True)
    for i, (im, lb) in enumerate(zip(reals, labels)):
        Image.fromarray(im).save(images / 'real_image' / f'{i}.png')
        Image.fromarray(render(im, lb)).save(images / 'synthesized_image' / f'{i}.png')
        Image.fromarray(lb.astype(np.uint8)).save(images / 'label_ids' / f'{i}.png')
    return images


@pytest.mark.parametrize('lbp_variant', ['classic', 'skimage'])
def test_evaluate_reports_texture_zero_for_real_high_for_texture_free_between_for_blurred(
        scenes, tmp_path, capsys, lbp_variant):
    reals, labels = scenes
    renders = {'real': lambda im, lb: im, 'blurred': lambda im, lb: texture.blurred(im),
               'texture_free': texture.texture_free}
    scores = {}
    for name, render in renders.items():
        write_results(tmp_path / name, reals, labels, render)
        metrics = evaluate.main(['--name', 'demo_exp', '--results_dir', str(tmp_path / name), '--dataset_mode', 'demo',
                                 '--lbp_variant', lbp_variant, '--no_fid', '--no_seg', '--gpu_ids', '-1'])
        saved = json.loads((tmp_path / name / 'demo_exp' / 'val_latest' / 'metrics.json').read_text())
        assert saved['texture_js'] == metrics['texture_js'] and saved['texture_per_class']
        scores[name] = metrics
    for key in ('texture_js', 'texture_js_riu2'):
        assert scores['real'][key] == 0 < scores['blurred'][key] < scores['texture_free'][key]
    refs = scores['real']['texture_references']
    assert refs['texture_free']['texture_js'] == pytest.approx(scores['texture_free']['texture_js'], abs=0.02)
    assert scores['real']['texture_position'] == pytest.approx(texture.position(0, refs))
    assert scores['texture_free']['texture_position'] < scores['blurred']['texture_position'] < 1
    out = capsys.readouterr().out
    blur = scores['blurred']
    assert f"| {blur['texture_js']:.3f} | {blur['texture_js_riu2']:.3f} | {blur['texture_position'] * 100:.0f} % |" in out
    line = next(x for x in out.splitlines() if x.startswith('| reference: texture-free (segment mean colours) |'))
    cells = dict(zip([k for k, _ in table.columns()], [c.strip() for c in line.strip('|').split('|')[1:]]))
    assert cells['texture_js'] == f"{refs['texture_free']['texture_js']:.3f}" and cells['miou'] == ''  # data only


def test_evaluate_without_label_ids_says_why_texture_is_missing(scenes, tmp_path):
    reals, labels = scenes
    images = write_results(tmp_path, reals[:2], labels[:2], lambda im, lb: im)
    for f in (images / 'label_ids').iterdir():
        f.unlink()
    (images / 'label_ids').rmdir()
    metrics = evaluate.main(['--name', 'demo_exp', '--results_dir', str(tmp_path), '--dataset_mode', 'demo',
                             '--no_fid', '--no_seg', '--gpu_ids', '-1'])
    assert metrics['texture_js'] is None and 'label_ids' in metrics['notes']['texture']


def test_two_configurations_built_with_one_seed_share_the_networks_they_share():
    import torch

    from models.pix2pix_model import Pix2PixModel
    states = {}
    for netG in ('spade', 'ulbp'):
        torch.manual_seed(3)
        model = Pix2PixModel.from_options(tiny_opt('--netG', netG, '--ngf', '4', '--ndf', '4', '--nhidden', '8',
                                                   '--no_vgg_loss'))
        states[netG] = (model.nets['D'].state_dict(), torch.rand(3))
    (spade_d, spade_next), (ulbp_d, ulbp_next) = states['spade'], states['ulbp']
    assert all(torch.equal(spade_d[k], ulbp_d[k]) for k in spade_d)  # D_I: same initial weights
    assert torch.equal(spade_next, ulbp_next)  # building G_L drew nothing from the training RNG
    torch.manual_seed(4)
    other = Pix2PixModel.from_options(tiny_opt('--netG', 'spade', '--ngf', '4', '--ndf', '4', '--nhidden', '8',
                                               '--no_vgg_loss'))
    assert not all(torch.equal(spade_d[k], v) for k, v in other.nets['D'].state_dict().items())
