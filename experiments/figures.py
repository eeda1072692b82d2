"""The experiment's pictures: learning curves over seeds, a grid of final-split images per row, and per-class crops."""
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from evaluation import results
from evaluation.metrics import all_metrics
from evaluation.texture import interior
from experiments.rows import ROWS

CURVES = ('c2st', 'texture_js', 'colour_js', 'gradient_js', 'miou')
METRICS = all_metrics()


def curves(runs, path, keys=CURVES):
    """One panel per measure the runs logged: each row's mean over seeds against iterations, band = min..max."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = logged(runs, keys)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for row, by_seed in runs.items():
            its, v = curve([r['log'] for r in by_seed.values()], key)
            if not its:
                continue
            v = np.asarray(v) * METRICS[key].scale
            ax.plot(its, v.mean(0), marker='.', label=ROWS[row][0])
            ax.fill_between(its, v.min(0), v.max(0), alpha=0.15)
        ax.set_title(f"{METRICS[key].label} ({'higher' if METRICS[key].higher_is_better else 'lower'} is better)")
        ax.set_xlabel('iteration')
    axes[0][0].legend(fontsize=8)
    fig.suptitle('val scenes: mean over seeds, band = min..max over seeds')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def logged(runs, keys):
    """The keys some run logged at some evaluation (a rescored measure may lack the first ones)."""
    logs = [r['log'] for by_seed in runs.values() for r in by_seed.values()]
    return [k for k in keys if any(row.get(k) is not None for log in logs for row in log)]


def curve(logs, key):
    """(iterations, values per log) at the evaluations where every log holds `key` (rescored ones may be sparse)."""
    length = min(len(log) for log in logs)
    at = [i for i in range(length) if all(log[i].get(key) is not None for log in logs)]
    return [logs[0][i]['iteration'] for i in at], [[log[i][key] for i in at] for log in logs]


def image_folders(final_dir, names, phase):
    """{row: images folder} of the rows whose run `names[row]` has final-split images on this machine."""
    folders = {row: results.images_dir(final_dir, name, phase) for row, name in names.items()}
    return {row: f for row, f in folders.items() if os.path.isdir(f)}


def picture_grid(folders, path, count=4):
    """Label, each row's synthesized image and the real photo of `count` final-split scenes, under column titles."""
    first = next(iter(folders.values()))
    stems = sorted(os.listdir(os.path.join(first, 'real_image')))
    stems = stems[::max(1, len(stems) // count)][:count]
    columns = [(first, 'input_label')] + [(f, 'synthesized_image') for f in folders.values()] + [(first, 'real_image')]
    tiles = [[Image.open(os.path.join(folder, kind, stem)).convert('RGB') for folder, kind in columns] for stem in stems]
    save_grid(tiles, path, titles=['label', *(ROWS[r][0] for r in folders), 'real photo'])


FONT = ImageFont.load_default(11)
LINE = 13


def wrap(text, width):
    """`text` in lines no wider than `width` pixels, broken between words."""
    lines = ['']
    for word in text.split():
        line = f'{lines[-1]} {word}'.strip()
        if lines[-1] and FONT.getlength(line) > width:
            lines.append(word)
        else:
            lines[-1] = line
    return lines


def save_grid(tiles, path, scale=1, titles=(), row_titles=()):
    """tiles[r][c] side by side, magnified `scale` times; `titles` above the columns, `row_titles` left of the
    rows (what a reader needs to know which picture is which)."""
    w, h = (v * scale for v in tiles[0][0].size)
    heads = [wrap(t, w - 4) for t in titles]
    top = LINE * max(map(len, heads), default=0) + (4 if heads else 0)
    left = int(max((FONT.getlength(t) for t in row_titles), default=-8)) + 8
    grid = Image.new('RGB', (left + w * len(tiles[0]), top + h * len(tiles)), 'white')
    draw = ImageDraw.Draw(grid)
    for c, lines in enumerate(heads):
        for i, line in enumerate(lines):
            draw.text((left + c * w + 2, 2 + i * LINE), line, fill='black', font=FONT)
    for r, title in enumerate(row_titles):
        draw.text((4, top + r * h + h // 2 - LINE // 2), title, fill='black', font=FONT)
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            grid.paste(tile.resize((w, h), Image.NEAREST), (left + c * w, top + r * h))
    grid.save(path)


def class_crops(folders, path, classes, size=32, scale=3):
    """Per class (id, name): a size×size crop of the real photo and of each row's image at the same place, in the
    final-split scene where the class has the most interior pixels, centred on them; magnified `scale` times."""
    first = next(iter(folders.values()))
    stems = sorted(f[:-4] for f in os.listdir(os.path.join(first, 'real_image')) if f.endswith('.png'))
    tiles, names = [], []
    for cid, name in classes:
        best = None
        for stem in stems:
            labels = results.read_ids(os.path.join(first, 'label_ids', stem + '.png'))
            mask = interior(labels) & (labels == cid)
            if mask.sum() and (best is None or mask.sum() > best[0]):
                best = (mask.sum(), stem, mask)
        if best is None:
            continue
        _, stem, mask = best
        r, c = (int(np.median(a)) for a in np.nonzero(mask))
        h, w = mask.shape
        top, left = min(max(r - size // 2, 0), h - size), min(max(c - size // 2, 0), w - size)
        kinds = [(first, 'real_image')] + [(f, 'synthesized_image') for f in folders.values()]
        tiles.append([Image.open(os.path.join(f, kind, stem + '.png')).convert('RGB').crop(
            (left, top, left + size, top + size)) for f, kind in kinds])
        names.append(name)
    if tiles:
        save_grid(tiles, path, scale, titles=['real photo', *(ROWS[r][0] for r in folders)], row_titles=names)
    return len(tiles)
