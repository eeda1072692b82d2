"""`python -m data.check_labels` reports a folder of label maps and converts colour labels."""
import json
import re

import numpy as np
import pytest
from PIL import Image

from data import check_labels
from data.cityscapes_dataset import CityscapesDataset
from util.errors import UserError, exit_on_user_error

IDS = np.array([[0, 0, 3, 3, 7, 7, 255, 255]] * 4, np.uint8)  # classes 0, 3, 7 and 255 = unlabelled


def write(folder, name, array, **kw):
    folder.mkdir(exist_ok=True)
    Image.fromarray(array).save(folder / name, **kw)
    return folder / name


def run(capsys, *args):
    try:
        status = exit_on_user_error(lambda: check_labels.main([str(a) for a in args])) or 0
    except SystemExit as e:
        status = e.code
    out = capsys.readouterr()
    return status, out.out, out.err


def test_report_of_id_labels_with_unpaired_files(tmp_path, capsys):
    labels, photos = tmp_path / 'labels', tmp_path / 'photos'
    write(labels, 'a.png', IDS)
    write(labels, 'b.png', IDS[:, ::-1].copy())
    write(photos, 'a.jpg', np.zeros((4, 8, 3), np.uint8))
    write(photos, 'c.jpg', np.zeros((4, 8, 3), np.uint8))
    status, out, _ = run(capsys, labels, '--image_dir', photos)
    assert status == 0
    assert 'format: class ids (L) (2 files)' in out and 'sizes: 8x4 (2 files)' in out
    assert 'values (4): 0: 16 px (25.0%), 3: 16 px (25.0%), 7: 16 px (25.0%), 255: 16 px (25.0%)' in out
    assert '1 label files without a photo: b' in out and '1 photos without a label: c' in out
    assert (f'train with: python train.py --dataset_mode custom --label_dir {labels} --image_dir {photos} '
            f'--label_nc 8 --contain_dontcare_label --no_instance') in out
    assert 'ids 1-2, 4-6 do not occur' in out


def test_formats_are_recognised(tmp_path, capsys):
    cases = {'mask': (np.where(IDS > 3, 255, 0).astype(np.uint8), 'binary mask 0/255'),
             'wide': ((IDS.astype(np.uint16) * 300), '16-bit ids'),
             'jpeg': (np.array(CityscapesDataset.COLORS, np.uint8)[np.resize(IDS % 34, (32, 32))],
                      'colours, JPEG artifacts')}
    for name, (array, kind) in cases.items():
        path = write(tmp_path / name, f'x.{"jpg" if name == "jpeg" else "png"}', array)
        status, out, _ = run(capsys, path.parent)
        assert status == 0 and f'format: {kind} (1 files)' in out, out
    assert 'problem: JPEG label maps' in out
    status, out, err = run(capsys, tmp_path / 'jpeg', '--convert', tmp_path / 'out')  # artifacts are no classes
    assert status == 2 and re.fullmatch(r'error: .*x\.jpg: JPEG artifacts: its colours are not class colours.*\n', err)
    status, out, _ = run(capsys, tmp_path / 'mask', '--convert', tmp_path / 'mask01')
    assert status == 0 and 'wrote 1 class-id PNGs' in out
    assert (np.asarray(Image.open(tmp_path / 'mask01' / 'x.png')) == (IDS > 3)).all()
    status, _, err = run(capsys, tmp_path / 'nowhere')
    assert status == 2 and 'nowhere not found' in err and err.count('\n') == 1
    # output places that cannot be written: one line each, before any work
    (tmp_path / 'a_file').write_text('x')
    status, _, err = run(capsys, tmp_path / 'mask', '--convert', tmp_path / 'a_file')
    assert status == 2 and re.fullmatch(r'error: --convert .*a_file: is a file, not a folder.*\n', err)
    status, _, err = run(capsys, tmp_path / 'mask', '--convert', tmp_path / 'o2', '--palette', tmp_path / 'mask')
    assert status == 2 and re.fullmatch(r'error: --palette .*mask: is a folder; name a JSON file.*\n', err)


def test_colour_labels_convert_to_ids_with_a_palette_file(tmp_path, capsys):
    colours = np.array(CityscapesDataset.COLORS, np.uint8)
    ids = np.array([[7, 7, 26, 26], [23, 23, 8, 8]])
    write(tmp_path / 'colour', 'a.png', colours[ids])
    write(tmp_path / 'colour', 'b.png', colours[ids[::-1]].copy())
    status, out, _ = run(capsys, tmp_path / 'colour', '--convert', tmp_path / 'ids')
    assert status == 0, out
    assert "all colours are Cityscapes' colours" in out and '(128, 64, 128) road' in out
    made = json.loads((tmp_path / 'ids' / 'palette.json').read_text())
    assert list(made) == ['car', 'sky', 'road', 'sidewalk']  # sorted by colour, named after the known palette
    converted = np.asarray(Image.open(tmp_path / 'ids' / 'a.png'))
    assert converted.dtype == np.uint8 and (np.array(list(made.values()))[converted] == colours[ids]).all()
    assert 'train with: --dataset_mode custom --label_dir' in out and '--label_nc 4' in out
    # the same palette file read back gives the same ids; a colour it lacks is one line naming file and colour
    status, _, _ = run(capsys, tmp_path / 'colour', '--convert', tmp_path / 'again', '--palette',
                       tmp_path / 'ids' / 'palette.json')
    assert status == 0 and (np.asarray(Image.open(tmp_path / 'again' / 'a.png')) == converted).all()
    write(tmp_path / 'colour', 'c.png', np.full((2, 2, 3), 9, np.uint8) + np.array([0, 1, 2], np.uint8))
    status, _, err = run(capsys, tmp_path / 'colour', '--convert', tmp_path / 'third', '--palette',
                         tmp_path / 'ids' / 'palette.json')
    assert status == 2 and re.fullmatch(r"error: .*c\.png: colour \(9, 10, 11\) \(4 px\) is not in --palette .*\n", err)
    # --palette FILE that is not there yet is written
    status, _, _ = run(capsys, tmp_path / 'colour', '--convert', tmp_path / 'fourth', '--palette', tmp_path / 'p.json')
    assert status == 0 and len(json.loads((tmp_path / 'p.json').read_text())) == 5
    with pytest.raises(UserError, match='not a JSON object of name'):
        (tmp_path / 'broken.json').write_text('[1, 2]')
        check_labels.load_palette(str(tmp_path / 'broken.json'))
