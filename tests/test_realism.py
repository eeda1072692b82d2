"""The measures ULBPGAN does not train on: the classifier two-sample test and the colour / gradient histograms.
Each must order the references on a small generated set: real vs real at chance (or 0), and the renderings that
the LBP texture divergence cannot see (grey, washed out) clearly worse, as texture-free is."""
import numpy as np
import pytest
import torch

from data.demo_scenes import render_scene
from evaluation import c2st, histograms, renderings


@pytest.fixture(scope='module')
def scenes():
    rng = np.random.default_rng(0)
    drawn = [render_scene(rng, 64, 48) for _ in range(32)]
    return np.stack([d[2] for d in drawn]), np.stack([d[0] for d in drawn])


def grey(images):
    return np.stack([renderings.grey(im) for im in images])


def rendered(images, labels):
    return {k: np.stack([render(im, lb) for im, lb in zip(images, labels)])
            for k, render in renderings.RENDERINGS.items() if k != 'blurred'}


def test_c2st_real_against_itself_is_chance_and_renderings_are_told_apart(scenes):
    torch.set_num_threads(1)
    images, labels = scenes
    same = c2st.c2st(images, images, seeds=2, steps=(100,))
    assert abs(same['accuracy'] - 0.5) < 0.03 and len(same['per_seed']) == 2
    found = {k: c2st.c2st(images, v, seeds=1, steps=(100,))['accuracy'] for k, v in rendered(images, labels).items()}
    assert found['texture_free'] >= 0.85 and found['grey'] >= 0.85, found
    assert found['washed_out'] > 0.7, found
    # luminance alone cannot tell a grey rendering from the photo: the grey variant is blind to colour by design
    assert abs(c2st.c2st(images, grey(images), grey=True, seeds=1, steps=(100,))['accuracy'] - 0.5) < 0.03


def test_c2st_repeats_itself_at_the_thread_count_its_protocol_records(scenes):
    images, labels = scenes
    washed = rendered(images, labels)['washed_out']
    first, again = (c2st.c2st(images, washed, seeds=1, steps=(30,))['accuracy'] for _ in range(2))
    assert first == again
    assert c2st.protocol()['threads'] == torch.get_num_threads()


def test_c2st_folds_keep_neighbouring_scenes_together_and_refuse_too_few():
    fold = c2st.folds(40, block=8)
    assert list(fold[:17]) == [0] * 8 + [1] * 8 + [0] and fold.sum() == 16
    with pytest.raises(ValueError, match='at least 16 scenes'):
        c2st.c2st(np.zeros((10, 32, 32, 3), np.uint8), np.zeros((10, 32, 32, 3), np.uint8))


def test_c2st_scores_give_both_variants_with_their_spread_and_curve(scenes):
    images, labels = scenes
    out = c2st.scores(list(images), list(rendered(images, labels)['texture_free']), seeds=2, steps=(20, 40))
    assert set(out) == {'c2st', 'c2st_std', 'c2st_curve', 'c2st_grey', 'c2st_grey_std', 'c2st_grey_curve'}
    assert list(out['c2st_curve']) == ['20', '40'] and out['c2st_std'] >= 0


def test_histograms_order_the_references_and_see_grey_and_washed_out(scenes):
    images, labels = scenes

    def score(fakes):
        acc = histograms.HistogramDivergence()
        for f, r, lb in zip(fakes, images, labels):
            acc.add(f, r, lb)
        return acc.result()
    halves = histograms.ClassHistograms(), histograms.ClassHistograms()
    for i, (im, lb) in enumerate(zip(images, labels)):
        halves[i % 2].add(im, lb)
    floor = histograms.divergence(*halves)
    same = score(images)
    assert same['colour_js'] == 0 and same['gradient_js'] == 0
    found = {k: score(v) for k, v in rendered(images, labels).items()}
    for key in ('colour_js', 'gradient_js'):
        assert found['texture_free'][key] > 5 * floor[key] + 0.05, key
    assert found['grey']['colour_js'] > 5 * floor['colour_js'] + 0.05  # colour sees grey
    assert found['washed_out']['gradient_js'] > 5 * floor['gradient_js'] + 0.05  # gradients see contrast
    assert set(found['grey']['histogram_per_class']) <= {str(c) for c in np.unique(labels)}


def test_evaluate_reports_c2st_that_orders_the_references(scenes, tmp_path, monkeypatch):
    import json

    import evaluate
    from PIL import Image
    monkeypatch.setattr(c2st, 'SEEDS', 1)  # (the protocol's 5 seeds and 400 steps take minutes here)
    monkeypatch.setattr(c2st, 'STEPS', (100,))
    images, labels = scenes
    found = {}
    for name, fakes in {'real': images, **rendered(images, labels)}.items():
        folder = tmp_path / name / 'demo_exp' / 'val_latest' / 'images'
        for sub in ('synthesized_image', 'real_image', 'label_ids'):
            (folder / sub).mkdir(parents=True)
        for i, (real, fake, lb) in enumerate(zip(images, fakes, labels)):
            Image.fromarray(real).save(folder / 'real_image' / f'{i:02d}.png')
            Image.fromarray(fake).save(folder / 'synthesized_image' / f'{i:02d}.png')
            Image.fromarray(lb.astype(np.uint8)).save(folder / 'label_ids' / f'{i:02d}.png')
        evaluate.main(['--name', 'demo_exp', '--results_dir', str(tmp_path / name), '--dataset_mode', 'demo',
                       '--no_fid', '--no_seg', '--gpu_ids', '-1'])
        found[name] = json.loads((folder.parent / 'metrics.json').read_text())
    assert abs(found['real']['c2st'] - 0.5) < 0.03 and abs(found['real']['c2st_grey'] - 0.5) < 0.03
    assert found['texture_free']['c2st'] >= 0.85 and found['grey']['c2st'] >= 0.85
    assert found['washed_out']['c2st'] > 0.7 and found['washed_out']['c2st_grey'] > 0.7
    assert found['real']['colour_js'] == 0 and found['grey']['colour_js'] > 0.05
    assert len(found['real']['c2st_curve']) == 1 and found['real']['c2st_std'] >= 0
    # the constants it was made with are stored beside the score and named in the protocol line
    assert found['real']['protocol']['c2st'] == {**c2st.protocol(), 'seeds': 1, 'steps': [100]}
    assert '16×16 patches' in found['real']['protocol_line'] and '100 steps, mean of 1 seeds' in found['real']['protocol_line']
