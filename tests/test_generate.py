"""generate.py, the Synthesizer API, label files in ids or colours (data/label_maps.py, data/palettes.py)."""
import os
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import generate
import test as test_py  # the project's test.py (python -m pytest puts the repository first on sys.path)
import train
from data import label_maps, palettes
from data.ade20k_dataset import Ade20kDataset
from data.cityscapes_dataset import CityscapesDataset
from data.coco_dataset import CocoDataset
from data.base_dataset import sample_key
from inference import Synthesizer
from synth_helpers import one_thread, small_label, tiny_args, tiny_checkpoint, val_labels  # noqa: F401 (fixtures)
from util.errors import UserError, exit_on_user_error
from util.images import tensor2label

pytestmark = pytest.mark.usefixtures('one_thread')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def opt_of(mode, label_nc, dontcare, size=64, aspect=1.0):
    return SimpleNamespace(dataset_mode=mode, label_nc=label_nc, contain_dontcare_label=dontcare,
                           crop_size=size, aspect_ratio=aspect)


def save(tmp_path, name, array, mode=None):
    path = tmp_path / name
    Image.fromarray(array, mode).save(path)
    return str(path)


@pytest.fixture(scope='module')
def synth(tiny_checkpoint):
    ckdir, name, _ = tiny_checkpoint
    return Synthesizer(ckdir / name, device='cpu')


# ---- palettes and label files (no model needed) ----

def test_palettes_are_complete_and_colours_read_back():
    assert len(Ade20kDataset.CLASSES) == len(Ade20kDataset.COLORS) == 150
    assert len(CocoDataset.CLASSES) == 182 and len(CityscapesDataset.CLASSES) == 35
    shared = {}
    for palette in palettes.known_palettes():
        ids = np.array([i for i, _, _ in palette.entries])
        rgb = np.array([c for _, _, c in palette.entries], np.uint8)[None]
        back = palette.lookup(rgb)[0]
        first = {c: i for i, _, c in reversed(palette.entries)}  # shared colours read back as their first id
        assert (back == [first[tuple(c)] for c in rgb[0]]).all()
        shared[palette.key] = sorted(ids[back != ids].tolist())
    # Cityscapes' void classes (black), polegroup and license plate; ADE20K's skyscraper (= road's colour)
    assert shared == {'cityscapes': [1, 2, 3, 4, 18, 34], 'ade20k': [48], 'camvid': [], 'coco': [], 'facades': []}
    # test.py's label pictures use the same table as the palette module (moved, not copied)
    opt = opt_of('custom', 5, True)
    ids = torch.tensor([[[0, 1, 4, 5]]])
    rgb = tensor2label(ids, palettes.label_colors(5))[None]
    assert (palettes.labels(opt).lookup(rgb[0]) == [[0, 1, 4, 5]]).all()


def test_ids_use_the_datasets_own_mapping(tmp_path):
    ade = opt_of('ade20k', 150, True)
    raw = np.array([[0, 1, 150, 7]], np.uint8)
    got = label_maps.read_label_map(save(tmp_path, 'a.png', raw), ade).ids
    expected = Ade20kDataset.map_label(raw.astype(np.int64), 150, True)  # the loader's rule
    assert (got == expected).all() and (got == [[150, 0, 149, 6]]).all()
    coco = opt_of('coco', 182, True)
    assert (label_maps.read_label_map(save(tmp_path, 'c.png', np.array([[255, 181, 0]], np.uint8)), coco).ids
            == [[182, 181, 0]]).all()
    city = opt_of('cityscapes', 35, False)
    with pytest.raises(UserError, match=r"b\.png: value 40 \(1 px\) is no class of this model, which reads 0-34 "
                                        r"\(Cityscapes labelIds\).*--label_format colors"):
        label_maps.read_label_map(save(tmp_path, 'b.png', np.array([[3, 40]], np.uint8)), city)


def test_colour_labels_of_each_palette_are_detected(tmp_path):
    cases = [(opt_of('cityscapes', 35, False), palettes.official, [7, 26, 23]),
             (opt_of('ade20k', 150, True), palettes.official, [0, 149, 150]),
             (opt_of('coco', 182, True), palettes.official, [0, 156, 182]),
             (opt_of('demo', 35, False), palettes.official, [1, 23, 26])]
    for opt, make, ids in cases:
        colours = dict((i, c) for i, _, c in make(opt).entries)
        rgb = np.array([[colours[i] for i in ids]], np.uint8)
        for fmt in ('auto', 'colors'):
            label = label_maps.read_label_map(save(tmp_path, f'{opt.dataset_mode}.png', rgb), opt, fmt)
            assert (label.ids == [ids]).all(), (opt.dataset_mode, fmt)
            assert 'colours of' in label.how
    # test.py's own input_label pictures read back as the ids it drew
    opt = opt_of('cityscapes', 35, False)
    ids = np.array([[0, 5, 34, 12]])
    drawn = tensor2label(torch.from_numpy(ids)[None], palettes.label_colors(35))
    assert (label_maps.read_label_map(save(tmp_path, 'drawn.png', drawn), opt).ids == ids).all()
    # a colour that is no class is one line naming the file, the colour and the fix
    rgb = np.array([[[128, 64, 128], [1, 2, 3]]], np.uint8)
    with pytest.raises(UserError, match=r"odd\.png: colour \(1, 2, 3\) \(1 px\) is no class colour of this model "
                                        r"\(closest table: Cityscapes' colours.*save as PNG"):
        label_maps.read_label_map(save(tmp_path, 'odd.png', rgb), opt)
    # ids forced on a colour file, and a P file read as ids (palette indices, as the loaders do)
    with pytest.raises(UserError, match='--label_format colors'):
        label_maps.read_label_map(save(tmp_path, 'odd.png', rgb), opt, 'ids')
    grey_rgb = np.stack([np.array([[7, 8]], np.uint8)] * 3, -1)  # ids saved as grey RGB stay ids
    assert (label_maps.read_label_map(save(tmp_path, 'g.png', grey_rgb), opt).ids == [[7, 8]]).all()


def test_fit_resizes_with_nearest_neighbour():
    opt = opt_of('cityscapes', 35, False, size=8, aspect=2.0)
    ids = np.repeat(np.repeat(np.array([[1, 2], [3, 4]]), 4, 0), 8, 1)  # 16×8
    fitted, before = label_maps.fit(ids, opt)
    assert before == (16, 8) and fitted.shape == (4, 8) and set(np.unique(fitted)) == {1, 2, 3, 4}
    same, none = label_maps.fit(fitted, opt)
    assert none is None and same is fitted


# ---- the API ----

def test_synthesizer_api(synth, tiny_checkpoint):
    _, _, dataroot = tiny_checkpoint
    assert synth.size == (64, 32) and synth.has_lbp and synth.use_vae and synth.config.label_nc == 35
    ids = synth.read_labels(val_labels(dataroot)[0])  # a labelIds file, 128×64
    assert ids.shape == (64, 128)
    out = synth(ids, seed=3)
    assert out.image.shape == (32, 64, 3) and out.image.dtype == np.uint8
    assert out.lbp.shape == (32, 64) and out.lbp.dtype == np.uint8
    # N×H×W from torch, in batches: each image's style is its own, so batching changes nothing
    batch = torch.from_numpy(np.stack([small_label(dataroot)] * 3))
    one = synth(batch, seed=3)
    synth.batch_size = 2
    try:
        two = synth(batch, seed=3)
    finally:
        synth.batch_size = 1
    assert one.image.shape == (3, 32, 64, 3) and (one.image == two.image).all() and (one.lbp == two.lbp).all()
    assert (synth(batch[0], seed=3).image == one.image[0]).all()
    tensors = synth(batch[:1], seed=3, output='tensor')
    assert tensors.image.shape == (1, 3, 32, 64) and tensors.image.min() >= -1 and tensors.lbp.shape == (1, 1, 32, 64)
    # a style photo goes through the encoder: the same photo gives the same picture, whatever the seed
    photo = (np.random.default_rng(0).random((40, 80, 3)) * 255).astype(np.uint8)
    a, b = synth(batch[0], style=photo, seed=1), synth(batch[0], style=Image.fromarray(photo), seed=2)
    assert (a.image == b.image).all()
    with pytest.raises(UserError, match=r"id\(s\) 35, 99 are no class of this model \(ids 0-34\)"):
        synth(np.array([[1, 35, 99]]))
    with pytest.raises(UserError, match='H×W or N×H×W'):
        synth(np.zeros(5, int))


def test_the_readme_example_runs(tiny_checkpoint, monkeypatch, tmp_path):
    """README's API example, pointed at the tiny checkpoint."""
    ckdir, name, dataroot = tiny_checkpoint
    monkeypatch.chdir(tmp_path)
    readme = open(os.path.join(ROOT, 'README.md')).read()
    section = readme[readme.index('## Use a trained model on your own label maps'):]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    code = code.replace("'checkpoints/demo'", repr(str(ckdir / name))).replace(
        "'datasets/demo/gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_labelIds.png'", repr(val_labels(dataroot)[0]))
    scope = {}
    exec(code, scope)
    assert scope['image'].shape == (32, 64, 3) and scope['lbp'].shape == (32, 64)


# ---- generate.py ----

def run(args, capsys):
    """generate.py's main as its command line runs it -> (exit status, stdout + stderr, stderr)."""
    try:
        status = exit_on_user_error(lambda: generate.main(args)) or 0
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out + captured.err, captured.err


def test_generate_writes_image_and_lbp_per_label_map(tiny_checkpoint, tmp_path, capsys):
    ckdir, name, dataroot = tiny_checkpoint
    base = ['--name', name, '--checkpoints_dir', str(ckdir), '--gpu_ids', '-1']
    out = tmp_path / 'out'
    # a gtFine folder (labelIds, instanceIds and more side by side), instance maps from the same folder
    status, log, _ = run(base + ['--labels', os.path.join(dataroot, 'gtFine', 'val'), '--out', str(out), '--seed', '4',
                              '--instances', os.path.join(dataroot, 'gtFine', 'val'), '--batchSize', '2'], capsys)
    assert status == 0, log
    stems = sorted(sample_key(p) for p in val_labels(dataroot))
    assert sorted(os.listdir(out)) == sorted([f'{s}_image.png' for s in stems] + [f'{s}_lbp.png' for s in stems])
    assert Image.open(out / f'{stems[0]}_image.png').size == (64, 32)
    assert Image.open(out / f'{stems[0]}_lbp.png').mode == 'L'
    assert len(re.findall('resizing label maps', log)) == 1  # said once
    # one file, as colours this time (the Cityscapes palette), batch 1, same seed: the same picture
    ids = np.asarray(Image.open(val_labels(dataroot)[0]))
    colours = np.array(CityscapesDataset.COLORS, np.uint8)[ids]
    colour_file = save(tmp_path, f'{stems[0]}.png', colours)
    status, log, _ = run(base + ['--labels', colour_file, '--out', str(tmp_path / 'one'), '--seed', '4',
                              '--instances', os.path.join(dataroot, 'gtFine', 'val')], capsys)
    assert status == 0, log
    # black is read back as 'unlabeled' (0) where the file had 'ego vehicle' (1): compare elsewhere
    a = np.asarray(Image.open(out / f'{stems[0]}_image.png')).astype(int)
    b = np.asarray(Image.open(tmp_path / 'one' / f'{stems[0]}_image.png')).astype(int)
    assert np.abs(a - b)[:24].max() <= 1


def test_a_vae_model_with_its_own_norm_E_loads_from_its_name_alone(demo_city, tmp_path, capsys):
    """The checkpoint stores the encoder's norm (--norm_E), and test.py reads opt.json's dataroot: neither
    tool needs an option the run fixed."""
    train.main(tiny_args(demo_city, tmp_path, 'vae_in') + ['--norm_E', 'instance'])
    assert torch.load(tmp_path / 'vae_in' / 'latest.pth', weights_only=True)['config']['norm_E'] == 'instance'
    test_py.main(['--name', 'vae_in', '--checkpoints_dir', str(tmp_path), '--results_dir', str(tmp_path / 'r'),
                  '--gpu_ids', '-1', '--nThreads', '0'])
    assert len(os.listdir(tmp_path / 'r' / 'vae_in' / 'val_latest' / 'images' / 'synthesized_image')) == 2
    status, log, _ = run(['--name', 'vae_in', '--checkpoints_dir', str(tmp_path), '--gpu_ids', '-1', '--labels',
                          val_labels(demo_city)[0], '--out', str(tmp_path / 'g'), '--seed', '1'], capsys)
    assert status == 0, log
    assert len(os.listdir(tmp_path / 'g')) == 2  # the image and its LBP map


def test_generate_errors_are_one_line_with_status_2(tiny_checkpoint, tmp_path, capsys):
    ckdir, name, dataroot = tiny_checkpoint
    base = ['--name', name, '--checkpoints_dir', str(ckdir), '--gpu_ids', '-1', '--out', str(tmp_path / 'o')]
    bad = save(tmp_path, 'bad.png', np.array([[7, 200]], np.uint8))
    good = save(tmp_path, 'good.png', np.array([[7, 26]], np.uint8))
    (tmp_path / 'a_file').write_text('x')
    cases = [(['--labels', bad], r"error: .*bad\.png: value 200 \(1 px\) is no class of this model"),
             (['--labels', str(tmp_path / 'missing')], r"error: --labels .*missing: no such file or folder"),
             (['--labels', good, '--style', str(tmp_path / 'nophoto.jpg')], r"error: .*nophoto\.jpg: cannot read"),
             (['--labels', bad, '--name', 'nobody'], r"error: no checkpoint at .*nobody.*train first"),
             (['--labels', good, '--out', str(tmp_path / 'a_file')], r"error: --out .*a_file: is a file, not a folder")]
    for args, message in cases:
        status, log, err = run(base + args, capsys)
        assert status == 2 and re.search(message, err), log
        assert err.count('\n') == 1 and 'Traceback' not in log
