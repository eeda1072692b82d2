"""A dataset is one file: the modes are the data/<mode>_dataset.py files, and everything the tools need about a
dataset comes from its class. The proof: a copy of data/camvid_dataset.py under a new name, with its class
renamed and no other file touched, trains, tests, evaluates, generates and serves as a mode of its own."""
import importlib.util
import io
import json
import os
import sys
import threading

import numpy as np
import pytest
from PIL import Image

import data
import evaluate
import generate
import serve
import test as test_py  # the project's test.py
import train
from conftest import NO_CHECKPOINTS
from evaluation.segmentation import DEFAULT_MIOU_RULE, label_space
from evaluation.segmenters import DEFAULT_FOR_DATASET
from inference import Synthesizer
from options.train_options import TrainOptions
from synth_helpers import single_thread
from test_camvid import COLOURS, label_of, write_camvid
from test_serve import request
from util.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODE = 'camvid_copy_test'  # class CamvidCopyTestDataset in data/camvid_copy_test_dataset.py
TINY = ['--ngf', '4', '--ndf', '4', '--nhidden', '8', '--ngf_lbp', '4', '--batchSize', '1', '--nThreads', '0',
        '--gpu_ids', '-1', '--no_vgg_loss', '--no_tf_log', '--amp', 'none']


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'scripts', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def copied_mode():
    """data/camvid_copy_test_dataset.py: camvid_dataset.py with its class renamed; removed afterwards (and its
    bytecode and module), so that no later test sees the mode."""
    path = os.path.join(ROOT, 'data', f'{MODE}_dataset.py')
    with open(os.path.join(ROOT, 'data', 'camvid_dataset.py')) as f:
        source = f.read()
    assert source.count('class CamvidDataset(') == 1
    try:
        with open(path, 'w') as f:
            f.write(source.replace('class CamvidDataset(', 'class CamvidCopyTestDataset('))
        yield MODE
    finally:
        for leftover in (path, importlib.util.cache_from_source(path)):
            if os.path.exists(leftover):
                os.remove(leftover)
        sys.modules.pop(f'data.{MODE}_dataset', None)


def test_the_modes_are_the_dataset_files_and_an_unknown_one_is_one_line():
    files = sorted(f for f in os.listdir(os.path.join(ROOT, 'data')) if f.endswith('_dataset.py'))
    assert data.modes() == [f[:-len('_dataset.py')] for f in files if f != 'base_dataset.py']
    assert {'cityscapes', 'ade20k', 'coco', 'camvid', 'custom', 'demo', 'facades'} <= set(data.modes())
    with pytest.raises(UserError) as error:
        TrainOptions().parse(['--dataset_mode', 'nope', '--checkpoints_dir', NO_CHECKPOINTS])
    message = str(error.value)
    assert '\n' not in message and message.startswith('--dataset_mode nope: unknown; choose one of ade20k, camvid, ')
    assert all(mode in message for mode in data.modes())


def test_the_readme_lists_every_mode():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    listed = readme.split('## Datasets\n', 1)[1].split('`--dataset_mode ', 1)[1].split('`', 1)[0]
    assert sorted(listed.split(' | ')) == data.modes()
    row = next(line for line in readme.splitlines() if line.startswith('| one file per `--dataset_mode X`'))
    assert all(f'`data/{mode}_dataset.py`' in row for mode in data.modes())


def test_the_evaluation_tables_are_the_dataset_classes():
    expected = {'cityscapes': ('drn', 'union'), 'ade20k': ('upernet', 'all'), 'coco': ('deeplabv2', 'gt'),
                'camvid': ('small', 'union'), 'custom': ('small', 'union'), 'demo': ('small', 'union')}
    assert {m: (DEFAULT_FOR_DATASET[m], DEFAULT_MIOU_RULE[m]) for m in expected} == expected
    assert label_space('cityscapes', 35)[0] == 19 and label_space('demo', 35)[0] == 35  # (demo: its own ids)
    with pytest.raises(UserError, match='--dataset_mode nope: unknown'):
        DEFAULT_MIOU_RULE['nope']


def test_a_copied_dataset_file_is_a_working_mode(copied_mode, tmp_path):
    root = write_camvid(tmp_path / 'CamVid')
    ck, results = tmp_path / 'checkpoints', tmp_path / 'results'
    assert copied_mode in data.modes() and data.dataset_class(copied_mode).__name__ == 'CamvidCopyTestDataset'
    assert (DEFAULT_FOR_DATASET[copied_mode], DEFAULT_MIOU_RULE[copied_mode]) == ('small', 'union')
    run = ['--name', 'copy', '--checkpoints_dir', str(ck)]
    with single_thread():
        train.main(['--dataset_mode', copied_mode, '--dataroot', str(root), *run, *TINY, '--max_iters', '2'])
        saved = json.loads((ck / 'copy' / 'opt.json').read_text())
        assert (saved['dataset_mode'], saved['label_nc'], saved['contain_dontcare_label']) == (copied_mode, 11, True)

        test_py.main([*run, '--results_dir', str(results), '--gpu_ids', '-1', '--nThreads', '0'])
        pages = results / 'copy' / 'val_latest'
        assert (pages / 'index.html').is_file()
        for stem in ('0001TP_000000', '0001TP_000001'):  # the val split, drawn in the copy's (CamVid's) colours
            ids = np.asarray(Image.open(pages / 'images' / 'label_ids' / f'{stem}.png'))
            drawn = np.asarray(Image.open(pages / 'images' / 'input_label' / f'{stem}.png').convert('RGB'))
            assert ids.shape == (96, 128) and set(np.unique(ids)) == set(range(12))
            np.testing.assert_array_equal(drawn, COLOURS[ids])

        # evaluate.py with the small segmenter at its default path for this mode (1 iteration: random-ish weights)
        load_script('train_segmenter').main(['--dataset_mode', copied_mode, '--dataroot', str(root), '--gpu_ids', '-1',
                                             '--iters', '1', '--out', str(ck / f'segmenter_{copied_mode}.pth'),
                                             '--crop_size', '48', '--batchSize', '2', '--nThreads', '0',
                                             '--checkpoints_dir', NO_CHECKPOINTS])
        metrics = evaluate.main([*run, '--results_dir', str(results), '--no_fid', '--gpu_ids', '-1'])
        assert metrics['dataset_mode'] == copied_mode and metrics['num_images'] == 2
        assert 0 <= metrics['miou'] <= 1 and 0 <= metrics['accuracy'] <= 1
        assert (metrics['protocol']['segmenter'], metrics['protocol']['miou_rule']) == ('small', 'union')
        assert json.loads((pages / 'metrics.json').read_text())['miou'] == metrics['miou']

        colours = tmp_path / 'colours.png'
        Image.fromarray(COLOURS[label_of(1)]).save(colours)
        generate.main([*run, '--labels', str(colours), str(root / 'testannot'), '--out', str(tmp_path / 'out'),
                       '--gpu_ids', '-1'])
        assert sorted(os.listdir(tmp_path / 'out')) == ['0001TP_000000_image.png', '0001TP_000000_lbp.png',
                                                       'colours_image.png', 'colours_lbp.png']

        app = serve.App(Synthesizer(ck / 'copy', device='cpu'), 'copy')
        httpd = serve.make_server(app, '127.0.0.1', 0, quiet=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            info = json.loads(request(httpd, 'GET', '/api/info')[2])
            buffer = io.BytesIO()
            Image.fromarray(COLOURS[label_of(2)]).save(buffer, format='PNG')
            status, _, body = request(httpd, 'POST', '/api/labels?format=colors', buffer.getvalue())
        finally:
            httpd.shutdown()
            httpd.server_close()
    camvid = data.dataset_class('camvid')
    assert [c['name'] for c in info['classes']] == list(camvid.CLASSES) + ["don't care"]
    assert [tuple(c['color']) for c in info['classes']] == list(camvid.COLORS) + [(0, 0, 0)]
    assert info['val'] == ['0001TP_000000', '0001TP_000001'] and info['dontcare'] == 11
    labels = json.loads(body)
    assert status == 200 and (labels['width'], labels['height']) == (128, 96)
    expected = np.asarray(Image.fromarray(label_of(2)).resize((128, 96), Image.Resampling.NEAREST))
    np.testing.assert_array_equal(np.array(labels['ids']).reshape(96, 128), expected)


def test_the_copy_is_gone_afterwards():
    """(runs after the test above, in file order): no stray mode is left in data/."""
    assert MODE not in data.modes()
    assert not os.path.exists(os.path.join(ROOT, 'data', f'{MODE}_dataset.py'))
