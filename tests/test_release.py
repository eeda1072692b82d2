"""A trained run as a release (export.py, models/release.py): the folder alone gives the run's own pixels
from any working directory, through generate.py --model, serve.py --model, Synthesizer(DIR) and torch.hub;
--half stays within one grey level or is refused; a damaged or foreign file is one line naming it."""
import hashlib
import io
import json
import os
import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

import evaluate
import export
import generate
import inference.release
import serve
from data.base_dataset import sample_key
from inference import Synthesizer
from models.config import ModelConfig
from synth_helpers import one_thread, small_label, tiny_checkpoint, val_labels  # noqa: F401 (fixtures)
from util.errors import UserError, exit_on_user_error

pytestmark = pytest.mark.usefixtures('one_thread')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD = os.path.join(ROOT, 'tests', 'data', 'old_checkpoint')


def run_main(main, args, capsys):
    """main(args) as its command line runs it -> (exit status, stdout + stderr, stderr)."""
    try:
        status = exit_on_user_error(lambda: main(args)) or 0
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out + captured.err, captured.err


def one_line(main, args, capsys, pattern):
    """main(args) must stop with status 2 and one `error:` line matching pattern."""
    status, log, err = run_main(main, args, capsys)
    assert status == 2 and err.count('\n') == 1 and err.startswith('error: ') and 'Traceback' not in log, log
    assert re.search(pattern, err), err
    return err


@pytest.fixture(scope='module')
def releases(tiny_checkpoint, tmp_path_factory):
    """{'fp32': DIR, 'half': DIR} exported from the tiny run."""
    ckdir, name, _ = tiny_checkpoint
    base = tmp_path_factory.mktemp('releases')
    out = {}
    for kind, extra in (('fp32', []), ('half', ['--half'])):
        out[kind] = base / kind
        export.main(['--name', name, '--checkpoints_dir', str(ckdir), '--out', str(out[kind]), *extra])
    return out


@pytest.fixture(scope='module')
def own(tiny_checkpoint):
    """The run's own output for the first val map at the model's size, seed 3: (labels, Result)."""
    ckdir, name, dataroot = tiny_checkpoint
    ids = small_label(dataroot)
    return ids, Synthesizer(ckdir / name, device='cpu')(ids, seed=3)


def test_export_writes_the_generators_config_and_card(releases, tiny_checkpoint):
    ckdir, name, _ = tiny_checkpoint
    folder = releases['fp32']
    assert sorted(os.listdir(folder)) == ['README.md', 'config.json', 'model.safetensors']
    tensors = load_file(folder / 'model.safetensors')
    assert {k.split('.')[0] for k in tensors} == {'G', 'GL', 'E'}  # no discriminator
    saved = torch.load(ckdir / name / 'latest.pth', weights_only=True)
    for key, t in tensors.items():
        net, param = key.split('.', 1)
        assert torch.equal(t, saved['networks'][net][param]), key
    config = json.loads((folder / 'config.json').read_text())
    assert config['release_format_version'] == 1 and config['model'] == saved['config']
    assert ModelConfig.from_dict(config['model'], 'x').use_vae
    assert config['labels']['dataset_mode'] == 'cityscapes' and [26, 'car', [0, 0, 142]] in config['labels']['classes']
    assert config['weights'] == {'dtype': 'float32', 'networks': ['E', 'G', 'GL']}
    card = (folder / 'README.md').read_text()
    front = card.split('---\n')[1]
    assert 'license: other' in front and '- ulbpgan' in front and '- cityscapes' in front
    sha = hashlib.sha256((folder / 'model.safetensors').read_bytes()).hexdigest()
    assert f'sha256 of model.safetensors: `{sha}`' in card
    assert f'python train.py --name {name} --dataset_mode cityscapes' in card and '--use_vae' in card
    assert 'iterations: 1 of batch 2' in card and 'No scores were recorded' in card
    assert 'generate.py --model' in card and 'torch.hub.load(' in card and 'Synthesizer(' in card


def test_a_release_gives_the_runs_pixels_from_any_folder(releases, own, tiny_checkpoint, tmp_path, monkeypatch,
                                                          capsys):
    ckdir, name, dataroot = tiny_checkpoint
    ids, expected = own
    monkeypatch.chdir(tmp_path)  # no checkpoints/ here
    folder = str(releases['fp32'])
    for synth in (Synthesizer(folder, device='cpu'),
                  torch.hub.load(ROOT, 'synthesizer', path=folder, device='cpu', source='local')):
        got = synth(ids, seed=3)
        assert isinstance(synth, Synthesizer)
        assert (got.image == expected.image).all() and (got.lbp == expected.lbp).all()
    # generate.py: the run's and the release's files are the same bytes' pixels
    labels = val_labels(dataroot)
    for args, out in ((['--name', name, '--checkpoints_dir', str(ckdir)], 'run'), (['--model', folder], 'rel')):
        status, log, _ = run_main(generate.main, args + ['--labels', *labels, '--out', out, '--seed', '2',
                                                         '--gpu_ids', '-1'], capsys)
        assert status == 0, log
    assert not os.path.exists('checkpoints')
    for path in labels:
        for kind in ('image', 'lbp'):
            a, b = (np.asarray(Image.open(os.path.join(o, f'{sample_key(path)}_{kind}.png'))) for o in ('run', 'rel'))
            assert (a == b).all(), (path, kind)
    # the default output folder is named after the release folder
    status, log, _ = run_main(generate.main, ['--model', folder, '--labels', labels[0], '--gpu_ids', '-1'], capsys)
    default = os.path.join('results', 'fp32', 'generated', f'{sample_key(labels[0])}_image.png')
    assert status == 0 and os.path.isfile(default)
    # serve.py --model: its app answers as the run's
    app = serve.app_of(serve.parse(['--model', folder, '--gpu_ids', '-1']))
    buf = io.BytesIO()
    Image.fromarray(ids).save(buf, format='PNG')
    image, lbp, _ = app.synthesize(buf.getvalue(), 'image/png', {'seed': ['3'], 'format': ['model']})
    assert (np.asarray(Image.open(io.BytesIO(image))) == expected.image).all()
    assert (np.asarray(Image.open(io.BytesIO(lbp))) == expected.lbp).all()
    assert app.info()['name'] == 'fp32' and app.val_files == []  # a release has no dataset


def test_half_stores_float16_within_one_grey_level(releases, own, tmp_path, monkeypatch):
    ids, expected = own
    monkeypatch.chdir(tmp_path)
    folder = releases['half']
    assert json.loads((folder / 'config.json').read_text())['weights']['dtype'] == 'float16'
    weights = folder / 'model.safetensors'
    assert {t.dtype for t in load_file(weights).values() if t.is_floating_point()} == {torch.float16}
    assert os.path.getsize(weights) < 0.55 * os.path.getsize(releases['fp32'] / 'model.safetensors')
    assert 'float16 weights reproduce the run' in (folder / 'README.md').read_text()
    got = Synthesizer(str(folder), device='cpu')(ids, seed=3)
    for a, b in ((got.image, expected.image), (got.lbp, expected.lbp)):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_half_is_refused_when_it_changes_the_images(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    ckdir, name, _ = tiny_checkpoint
    monkeypatch.setattr(inference.release, 'HALF', torch.float8_e4m3fn)  # 3 mantissa bits: many grey levels off
    out = tmp_path / 'coarse'
    one_line(export.main, ['--name', name, '--checkpoints_dir', str(ckdir), '--out', str(out), '--half',
                           '--check_maps', '2'], capsys,
             r"--half refused: .* by up to \d+ grey levels on 2 of the run's val/test label maps .*without --half")
    assert not out.exists()


def test_an_old_checkpoint_exports_and_keeps_its_pixels(tmp_path, monkeypatch):
    """A .pth written before the config was stored (its 'options') exports through TrainedRun."""
    shutil.copytree(OLD, tmp_path / 'old')
    export.main(['--name', 'old', '--checkpoints_dir', str(tmp_path), '--out', str(tmp_path / 'rel')])
    monkeypatch.chdir(tmp_path)
    ids = np.random.default_rng(0).integers(0, 35, (32, 64))
    a, b = Synthesizer('old', device='cpu')(ids), Synthesizer('rel', device='cpu')(ids)
    assert (a.image == b.image).all() and (a.lbp == b.lbp).all()
    assert json.loads((tmp_path / 'rel' / 'config.json').read_text())['model']['lbp_grad_colour'] == 'luminance'
    # its opt.json's dataroot is gone: --half is checked on generated label maps
    export.main(['--name', 'old', '--checkpoints_dir', str(tmp_path), '--out', str(tmp_path / 'half'), '--half',
                 '--check_maps', '4'])
    assert 'on 4 generated label maps' in (tmp_path / 'half' / 'README.md').read_text()
    c = Synthesizer('half', device='cpu')(ids)
    assert np.abs(c.image.astype(int) - a.image.astype(int)).max() <= 1


def rewrite(folder, change):
    """model.safetensors with change(tensors) applied, and the card's sha256 made to match (a consistent but
    foreign release)."""
    tensors = load_file(folder / 'model.safetensors')
    change(tensors)
    save_file(tensors, folder / 'model.safetensors')
    sha = hashlib.sha256((folder / 'model.safetensors').read_bytes()).hexdigest()
    card = folder / 'README.md'
    card.write_text(re.sub(r'(sha256 of model\.safetensors: `)[0-9a-f]{64}', rf'\g<1>{sha}', card.read_text()))


def edit_config(folder, change):
    config = json.loads((folder / 'config.json').read_text())
    change(config)
    (folder / 'config.json').write_text(json.dumps(config))


def test_a_damaged_or_foreign_release_is_one_line_naming_the_file(releases, tiny_checkpoint, tmp_path, capsys):
    labels = small_label(tiny_checkpoint[2])
    Image.fromarray(labels).save(tmp_path / 'l.png')

    def truncate(f):
        data = (f / 'model.safetensors').read_bytes()
        (f / 'model.safetensors').write_bytes(data[:len(data) // 2])

    def pickle_instead(f):
        torch.save({'G': torch.zeros(3)}, f / 'model.safetensors')

    def drop_tensor(t):
        del t[sorted(t)[0]]

    def wrong_shape(t):
        key = next(k for k in sorted(t) if t[k].dim() == 4)
        t[key] = torch.zeros(1, *t[key].shape[1:])

    cases = [
        (lambda f: (f / 'model.safetensors').write_bytes(b'\xff' * 8 + (f / 'model.safetensors').read_bytes()[8:]),
         r'model\.safetensors: not a readable safetensors file'),
        (truncate, r'model\.safetensors: not a readable safetensors file'),
        (pickle_instead, r'model\.safetensors: not a readable safetensors file'),
        (lambda f: edit_config(f, lambda c: c.update(release_format_version=99)),
         r'config\.json: release format version 99, newer than this code reads \(1\)'),
        (lambda f: edit_config(f, lambda c: c['model'].update(format_version=99)),
         r'config\.json: its model config has format version 99'),
        (lambda f: edit_config(f, lambda c: c.pop('release_format_version')),
         r"config\.json: no release_format_version: not a ULBPGAN release"),
        (lambda f: (f / 'config.json').write_text('{"release_format'), r'config\.json: not readable JSON'),
        (lambda f: edit_config(f, lambda c: c['model'].update(ngf=8)),
         r'model\.safetensors: tensor \S+ has shape \(\d+, .*the config builds'),
        (lambda f: rewrite(f, drop_tensor), r'model\.safetensors: tensor \S+ is missing'),
        (lambda f: rewrite(f, wrong_shape), r'model\.safetensors: tensor \S+ has shape \(1, '),
        (lambda f: rewrite(f, lambda t: t.update(extra=torch.zeros(2))), r'model\.safetensors: holds 1 tensor\(s\) the '
                                                                         r'config does not build \(extra'),
        (lambda f: (f / 'config.json').unlink(), r'config\.json: missing'),
        (lambda f: (f / 'model.safetensors').unlink(), r'model\.safetensors: missing'),
        (lambda f: (f / 'README.md').unlink(), r'README\.md: missing .*--no_verify'),
        (lambda f: (f / 'README.md').write_text('# a card\n'), r"README\.md: has no line 'sha256 of model"),
    ]
    for i, (damage, pattern) in enumerate(cases):
        folder = tmp_path / f'case{i}'
        shutil.copytree(releases['fp32'], folder)
        damage(folder)
        err = one_line(generate.main, ['--model', str(folder), '--labels', str(tmp_path / 'l.png'), '--gpu_ids', '-1',
                                       '--out', str(tmp_path / 'o')], capsys, pattern)
        assert str(folder) in err, err
        with pytest.raises(UserError, match=pattern):
            Synthesizer(folder, device='cpu')
    one_line(serve.main, ['--model', str(tmp_path / 'case0'), '--gpu_ids', '-1'], capsys, 'not a readable safetensors')


def test_a_sha256_mismatch_is_refused_unless_told_not_to_verify(releases, tiny_checkpoint, tmp_path, capsys):
    folder = tmp_path / 'edited'
    shutil.copytree(releases['fp32'], folder)
    tensors = load_file(folder / 'model.safetensors')
    key = next(k for k, t in tensors.items() if t.is_floating_point())
    tensors[key] = tensors[key] + 0.5  # a valid file of the right shapes: only the checksum tells
    save_file(tensors, folder / 'model.safetensors')
    labels = tmp_path / 'l.png'
    Image.fromarray(small_label(tiny_checkpoint[2])).save(labels)
    args = ['--model', str(folder), '--labels', str(labels), '--gpu_ids', '-1', '--out', str(tmp_path / 'o')]
    one_line(generate.main, args, capsys, r"edited.model\.safetensors: its sha256 is [0-9a-f]{16}\.\.\., the card "
                                          r".*README\.md says [0-9a-f]{16}\.\.\..*--no_verify")
    with pytest.raises(UserError, match='sha256'):
        Synthesizer(folder, device='cpu')
    status, log, _ = run_main(generate.main, args + ['--no_verify'], capsys)
    assert status == 0 and os.path.isfile(tmp_path / 'o' / 'l_image.png'), log
    assert torch.equal(Synthesizer(folder, device='cpu', verify=False).model.state_dict()[f'nets.{key}'], tensors[key])
    assert serve.app_of(serve.parse(['--model', str(folder), '--no_verify', '--gpu_ids', '-1'])).synth.has_lbp


def test_the_card_reports_the_runs_records(tiny_checkpoint, tmp_path):
    """eval_log.csv's last row, an experiment's command and time, and evaluate.py's metrics.json with its
    protocol line appear in the card."""
    ckdir, name, _ = tiny_checkpoint
    shutil.copytree(ckdir / name, tmp_path / 'ck' / name)
    run = tmp_path / 'ck' / name
    (run / 'eval_log.csv').write_text('iteration,epoch,texture_js,miou,seconds\n1,1,0.5,0.1,3\n2,1,0.25,,3\n')
    (run / 'eval_references.json').write_text(json.dumps(
        {'num_images': 7, 'texture': {'texture_free': {'texture_js': 0.7}, 'real_vs_real': {'texture_js': 0.002}}}))
    (run / 'experiment_done.json').write_text(json.dumps({'seconds': 90, 'command': ['train.py', '--name', name]}))
    metrics = tmp_path / 'res' / name / 'val_latest' / 'metrics.json'
    metrics.parent.mkdir(parents=True)
    metrics.write_text(json.dumps({'num_images': 2, 'fid': 123.4, 'miou': 0.5, 'protocol_line': 'protocol: a line'}))
    export.main(['--name', name, '--checkpoints_dir', str(tmp_path / 'ck'), '--out', str(tmp_path / 'rel'),
                 '--results_dir', str(tmp_path / 'res')])
    card = (tmp_path / 'rel' / 'README.md').read_text()
    row = card.split("iteration 2 (eval_log.csv's last row): ")[1].split('\n')[0]
    assert row == 'texture_js 0.25'  # the last row's cells only (its miou is empty)
    assert 'the first 7 val scenes' in card and 'texture-free images 0.7, of real vs real 0.002' in card
    assert f'`python train.py --name {name}` (experiment_done.json)' in card and 'training time: 1.5 min' in card
    assert 'val_latest (2 images, evaluate.py\'s metrics.json): miou 0.5, fid 123.4' in card
    assert '  - protocol: a line' in card


def test_export_errors_are_one_line(releases, tiny_checkpoint, tmp_path, capsys):
    ckdir, name, _ = tiny_checkpoint
    base = ['--checkpoints_dir', str(ckdir)]
    (tmp_path / 'a_file').write_text('x')
    one_line(export.main, base + ['--name', 'nobody', '--out', str(tmp_path / 'r')], capsys,
             r'no checkpoint at .*nobody')
    one_line(export.main, base + ['--name', name, '--out', str(tmp_path / 'a_file')], capsys, 'is a file, not a folder')
    one_line(export.main, base + ['--name', name, '--out', str(ckdir / name)], capsys, "a training run's folder")
    one_line(export.main, ['--checkpoints_dir', str(releases['fp32'].parent), '--name', 'fp32', '--out',
                           str(tmp_path / 'r')], capsys, 'is a release already')
    one_line(generate.main, ['--model', str(releases['fp32']), '--which_epoch', '3', '--labels', 'x.png'], capsys,
             r'a release holds one set of weights; leave --which_epoch 3 out')
    one_line(generate.main, ['--labels', 'x.png'], capsys, r'pass --name NAME .* or --model DIR')
    one_line(generate.main, ['--model', str(tmp_path / 'nowhere'), '--labels', 'x.png'], capsys,
             r'--model .*nowhere: no such folder')


def test_the_run_options_are_declared_once_and_old_command_lines_still_parse(tmp_path):
    old = ['--name', 'n', '--checkpoints_dir', str(tmp_path), '--which_epoch', '5', '--gpu_ids', '-1']
    for a in (generate.parse(old + ['--labels', 'x.png']), serve.parse(old + ['--port', '0'])):
        assert (a.name, a.checkpoints_dir, a.which_epoch, a.gpu_ids, a.model, a.no_verify) == \
            ('n', str(tmp_path), '5', '-1', None, False)
    e = evaluate.parse_args(old + ['--dataset_mode', 'demo'])
    assert (e.name, e.checkpoints_dir, e.which_epoch, e.gpu_ids) == ('n', str(tmp_path), '5', '-1')
    with pytest.raises(SystemExit):  # evaluate.py scores results/<name>: no --model, --name required
        evaluate.parse_args(['--model', 'x', '--name', 'n'])
    with pytest.raises(SystemExit):
        evaluate.parse_args(old[2:])
    for path in ('evaluate.py', 'generate.py', 'serve.py'):
        with open(os.path.join(ROOT, path)) as f:
            source = f.read()
        assert "'--checkpoints_dir'" not in source and "'--gpu_ids'" not in source, path


def test_the_card_says_how_far_the_epochs_went():
    from inference.model_card import epochs
    assert epochs({'epoch': 11, 'epoch_iter': 0}) == '10 epochs complete'  # saved at an epoch's end
    assert epochs({'epoch': 20, 'epoch_iter': 91}) == '19 epochs complete and 91 iterations into epoch 20'
