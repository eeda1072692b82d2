"""Check a folder of label maps before training on it, and turn colour labels into class ids.

    python -m data.check_labels my_data/labels --image_dir my_data/images
    python -m data.check_labels my_data/colour_labels --convert my_data/labels [--palette palette.json]

The report says what the files hold (class ids, a colour palette, a 0/255 binary mask, 16-bit ids,
JPEG artifacts), which values (or colours) occur and on how many pixels, the sizes, label files
without a photo and photos without a label (with --image_dir, paired by sample name as the loaders
pair them: data.base_dataset.sample_key), and the options to train with (`--dataset_mode custom --label_nc N`,
`--contain_dontcare_label`, `--no_instance`; the dataset mode whose layout the folder is, where a dataset class
recognises it, e.g. `--dataset_mode camvid` for a split of CamVid's).

--convert OUT_DIR writes single-channel PNGs of class ids (same names, .png): colour labels through a
palette (--palette FILE, JSON of name -> [r, g, b], ids in its order; when FILE is absent, or without
--palette, one is made from the colours found, named after a known dataset palette where they
match, and written to FILE or OUT_DIR/palette.json), 0/255 masks as 0/1, id files as they are. Each file
is decoded once: with --convert its values are kept from the report to the conversion.
"""
import argparse
import json
import os
import sys
from collections import Counter

import numpy as np
from PIL import Image

import data
from data import palettes
from data.base_dataset import label_channels, list_files, open_decoded, sample_key
from data.custom_dataset import IMAGE_SUFFIXES, LABEL_SUFFIXES
from data.label_maps import ranges
from util.errors import UserError, exit_on_user_error, not_a_file

SUFFIXES = LABEL_SUFFIXES + ('.jpg', '.jpeg')  # JPEG labels are reported (as a problem), not skipped
MANY_COLOURS = 256  # more distinct colours than this in one file: blended edges or JPEG, not a palette


class FileInfo:
    """What one label file holds: kind, (w, h), Counter of values (ints) or colours (packed ints), and
    its values (H×W, or H×W×3 colours) when kept for --convert, so each file is decoded once."""

    def __init__(self, path, kind, size, counts, note='', values=None):
        self.path, self.kind, self.size, self.counts, self.note = path, kind, size, counts, note
        self.values = values


def inspect(path, keep=False):
    img = open_decoded(path, 'label map')
    jpeg = img.format == 'JPEG' or path.lower().endswith(('.jpg', '.jpeg'))
    arr = label_channels(img)  # as the loaders read it, colours kept
    kept = arr if keep else None
    if arr.ndim == 3:
        codes, counts = np.unique(palettes.pack_array(arr), return_counts=True)
        kind = 'colours'
        if jpeg or len(codes) > MANY_COLOURS:
            kind = 'colours, JPEG artifacts' if jpeg else 'colours, blended (anti-aliased edges?)'
        return FileInfo(path, kind, img.size, Counter(dict(zip(codes.tolist(), counts.tolist()))), values=kept)
    values, counts = np.unique(arr.astype(np.int64), return_counts=True)
    found = Counter(dict(zip(values.tolist(), counts.tolist())))
    if jpeg:
        kind = 'ids, JPEG artifacts'
    elif set(found) <= {0, 255} and 255 in found:
        kind = 'binary mask 0/255'
    elif arr.dtype.itemsize > 1 or img.mode.startswith('I'):
        kind = '16-bit ids'
    else:
        kind = f'class ids ({img.mode})'
    note = ''
    if values.max(initial=0) >= 1000:
        note = 'values >= 1000: instance maps (class*1000+k, as Cityscapes instanceIds)?'
    return FileInfo(path, kind, img.size, found, note, kept)


def matching_palette(colours):
    """The known dataset palette that holds every colour found, or None."""
    for palette in palettes.known_palettes():
        if all(code in palette.by_colour for code in colours):
            return palette
    return None


def top(counts, limit, fmt=str):
    total = sum(counts.values())
    items = sorted(counts.items()) if len(counts) <= limit else counts.most_common(limit)
    text = ', '.join(f'{fmt(k)}: {v} px ({v / total:.1%})' for k, v in items)
    return text + (f', ... ({len(counts) - limit} more)' if len(counts) > limit else '')


def report(label_dir, image_dir=None, limit=40, keep=False):
    """-> (lines of the report, [FileInfo]); keep: the FileInfos keep each file's values (for convert)."""
    files = list_files(label_dir, SUFFIXES, 'a folder of label maps (*.png)')
    if not files:
        raise UserError(f"{label_dir}: no label files ({', '.join(SUFFIXES)}) in this folder")
    infos = [inspect(p, keep) for p in files]
    lines = [f"{label_dir}: {len(infos)} label files"]
    kinds = Counter(i.kind for i in infos)
    lines.append("format: " + ', '.join(f'{k} ({n} files)' for k, n in kinds.most_common()))
    if len(kinds) > 1:
        for kind in kinds:
            lines.append(f"  {kind}: e.g. {next(i.path for i in infos if i.kind == kind)}")
    for note in sorted({i.note for i in infos if i.note}):
        lines.append(f"note: {note}")
    sizes = Counter(i.size for i in infos)
    lines.append("sizes: " + ', '.join(f'{w}x{h} ({n} files)' for (w, h), n in sizes.most_common()))
    instance_like = [i for i in infos if i.note.startswith('values >= 1000')]
    if instance_like:
        lines.append(f"  {len(instance_like)} files look like instance maps (e.g. {instance_like[0].path}): keep them "
                     f"in their own folder (--instance_dir); they are left out of the values and advice below")
    id_files = [i for i in infos if not i.kind.startswith('colours') and i not in instance_like]
    colour_files = [i for i in infos if i.kind.startswith('colours')]
    ids = sum((i.counts for i in id_files), Counter())
    colours = sum((i.counts for i in colour_files), Counter())
    if ids:
        lines.append(f"values ({len(ids)}): " + top(ids, limit))
    if colours:
        known = matching_palette(colours)
        name = (lambda c: f'{palettes.unpack(c)} {known.name_of(palettes.unpack(c))}') if known else \
            (lambda c: str(palettes.unpack(c)))
        lines.append(f"colours ({len(colours)}): " + top(colours, limit, name))
        if known:
            lines.append(f"  all colours are {known.title}")
    if image_dir:
        images = list_files(image_dir, IMAGE_SUFFIXES, 'a folder of photos')
        labelled, photographed = {sample_key(p) for p in files}, {sample_key(p) for p in images}
        no_photo = sorted(labelled - photographed)
        no_label = sorted(photographed - labelled)
        lines.append(f"pairs: {len(labelled & photographed)} label files have a photo in {image_dir}")
        if no_photo:
            lines.append(f"  {len(no_photo)} label files without a photo: {', '.join(no_photo[:10])}"
                         + (' ...' if len(no_photo) > 10 else ''))
        if no_label:
            lines.append(f"  {len(no_label)} photos without a label: {', '.join(no_label[:10])}"
                         + (' ...' if len(no_label) > 10 else ''))
    lines += advice(label_dir, image_dir, kinds, ids, colours)
    return lines, infos


def advice(label_dir, image_dir, kinds, ids, colours):
    images = image_dir or 'PHOTOS'
    out = []
    if any('JPEG' in k for k in kinds):
        out.append("problem: JPEG label maps: compression alters ids and colours at every edge; export the labels "
                   "as PNG again (a class map cannot be recovered exactly from a JPEG)")
    if any('blended' in k for k in kinds):
        out.append(f"problem: more than {MANY_COLOURS} colours in a file: the edges are blended (anti-aliasing or "
                   f"resizing with interpolation); export with nearest-neighbour / no anti-aliasing")
    if colours:
        out.append(f"colour labels: convert them to class ids first: python -m data.check_labels {label_dir} "
                   f"--convert OUT_DIR [--palette palette.json]; then train on OUT_DIR as below")
    if 'binary mask 0/255' in kinds:
        out.append("0/255 masks: --convert OUT_DIR writes them as 0/1 (then --label_nc 2); or, if 255 means "
                   "'unlabelled', train on them as they are with --label_nc 1 --contain_dontcare_label")
    known = dataset_advice(label_dir, ids) if ids and not colours else None
    if known:
        out += known
    elif ids and not colours and set(kinds) != {'binary mask 0/255'}:
        dontcare = 255 in ids and len(ids) > 1 and max(v for v in ids if v != 255) < 255
        classes = sorted(v for v in ids if not (dontcare and v == 255))
        label_nc = classes[-1] + 1 if classes else 1
        unused = sorted(set(range(label_nc)) - set(classes))
        flags = ' --contain_dontcare_label' if dontcare else ''
        out.append(f"train with: python train.py --dataset_mode custom --label_dir {label_dir} --image_dir {images} "
                   f"--label_nc {label_nc}{flags} --no_instance")
        if dontcare:
            out.append("  (255 is taken as 'unlabelled': --contain_dontcare_label gives it its own id; without that "
                       "flag 255 would have to be a class and --label_nc 256)")
        if unused:
            out.append(f"  ids {ranges(unused)} do not occur: --label_nc counts them anyway (fine, or "
                       f"renumber the classes)")
        out.append("  (--no_instance: no instance maps; with them add --instance_dir DIR instead)")
    return out


def dataset_advice(label_dir, ids):
    """The lines for a label folder of a dataset mode's layout (its class's `recognise`), else None."""
    for mode in data.modes():
        found = data.dataset_class(mode).recognise(label_dir, sorted(ids))
        if found:
            root, what = found
            return [what, f"train with: python train.py --dataset_mode {mode} --dataroot {root}"]
    return None


# ---- conversion ----

def load_palette(path):
    """name -> [r, g, b] JSON -> Palette (ids in the file's order)."""
    try:
        with open(path) as f:
            table = json.load(f)
        entries = [(i, str(name), tuple(int(c) for c in rgb)) for i, (name, rgb) in enumerate(table.items())]
        if any(len(c) != 3 or not all(0 <= v <= 255 for v in c) for _, _, c in entries):
            raise ValueError('colours must be [r, g, b] with values 0-255')
    except (OSError, ValueError, AttributeError, TypeError) as e:
        raise UserError(f"--palette {path}: not a JSON object of name -> [r, g, b] ({e}); fix it, or leave "
                        f"--palette out to make one from the colours found") from None
    return palettes.Palette('file', path, entries)


def make_palette(colours):
    """A palette of the colours found, sorted by colour; names from a known dataset palette where they match."""
    known = matching_palette(colours)
    entries, used = [], set()
    for i, code in enumerate(sorted(colours)):
        rgb = palettes.unpack(code)
        name = (known.name_of(rgb) if known else None) or f'class_{i}'
        if name in used:
            name = f'{name}_{i}'
        used.add(name)
        entries.append((i, name, rgb))
    return palettes.Palette('made', 'the colours found', entries)


def write_ids(ids, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if ids.max(initial=0) < 256:
        Image.fromarray(ids.astype(np.uint8), 'L').save(path)
    else:
        Image.fromarray(ids.astype(np.uint16)).save(path)  # 16-bit PNG


def convert(label_dir, infos, out_dir, palette_path=None):
    """Write class-id PNGs of every file to out_dir (infos from report(..., keep=True)) -> lines to print."""
    colour_files = [i for i in infos if i.kind.startswith('colours')]
    lines = []
    palette = None
    if colour_files:
        colours = sum((i.counts for i in colour_files), Counter())
        if palette_path and os.path.isfile(palette_path):
            palette = load_palette(palette_path)
            lines.append(f"palette: {palette_path} ({len(palette)} classes)")
        else:
            damaged = [i for i in colour_files if i.kind != 'colours']
            if damaged:
                raise UserError(f"{damaged[0].path}: {damaged[0].kind.split(', ')[1]}: its colours are not class colours "
                                f"only ({len(damaged)} such files); export the labels as PNG without anti-aliasing, "
                                f"or give the classes' colours with --palette FILE")
            if len(colours) > MANY_COLOURS:
                raise UserError(f"{label_dir}: {len(colours)} different colours, too many for class colours (JPEG "
                                f"artifacts or blended edges); export the labels as PNG without anti-aliasing, or "
                                f"give the classes' colours with --palette FILE")
            palette = make_palette(colours)
            palette_path = palette_path or os.path.join(out_dir, 'palette.json')
            os.makedirs(os.path.dirname(os.path.abspath(palette_path)), exist_ok=True)
            with open(palette_path, 'w') as f:  # one class a line, in id order
                f.write('{\n' + ',\n'.join(f' {json.dumps(name)}: {list(rgb)}' for _, name, rgb in palette.entries)
                        + '\n}\n')
            lines.append(f"palette: {len(palette)} colours found, written to {palette_path} (edit the names, keep "
                         f"the order: it gives the ids)")
    for info in infos:
        target = os.path.join(out_dir, os.path.splitext(os.path.relpath(info.path, label_dir))[0] + '.png')
        if info.kind.startswith('colours'):
            rgb = info.values
            ids = palette.lookup(rgb)
            if (ids < 0).any():
                codes, counts = np.unique(palettes.pack_array(rgb[ids < 0]), return_counts=True)
                first = int(np.argmax(counts))
                raise UserError(f"{info.path}: colour {palettes.unpack(int(codes[first]))} ({counts[first]} px) is not "
                                f"in --palette {palette_path}; add it there (a new name at the end) or repaint it")
        else:
            ids = info.values.astype(np.int64)
            if info.kind == 'binary mask 0/255':
                ids = (ids == 255).astype(np.int64)
        write_ids(ids, target)
    lines.append(f"wrote {len(infos)} class-id PNGs to {out_dir}")
    if palette is not None:
        lines.append(f"train with: --dataset_mode custom --label_dir {out_dir} --label_nc {len(palette)} --no_instance")
    return lines


def main(args=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('label_dir', help='folder of label maps')
    p.add_argument('--image_dir', default=None, help='folder of the photos: reports unpaired files')
    p.add_argument('--convert', metavar='OUT_DIR', default=None, help='write class-id PNGs here')
    p.add_argument('--palette', metavar='FILE', default=None,
                   help='JSON name -> [r, g, b] for --convert: read if it exists, else written')
    p.add_argument('--max_values', type=int, default=40, help='values/colours listed')
    a = p.parse_args(args)
    not_a_file(a.convert, '--convert')
    if a.palette and os.path.isdir(a.palette):
        raise UserError(f"--palette {a.palette}: is a folder; name a JSON file (read if it exists, else written)")
    lines, infos = report(a.label_dir, a.image_dir, a.max_values, keep=bool(a.convert))
    print('\n'.join(lines))
    if a.convert:
        print('\n'.join(convert(a.label_dir, infos, a.convert, a.palette)))


if __name__ == '__main__':
    sys.exit(exit_on_user_error(main))
