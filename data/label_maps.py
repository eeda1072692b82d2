"""Label maps from files or uploads -> the class ids a trained model reads (generate.py, serve.py).

A label PNG holds either
  * class ids as the model's dataset stores them (`ids`): Cityscapes labelIds, ADE20K annotations
    (raw 0 = unlabelled, 1..150 = classes), COCO-Stuff ids with 255 = unlabelled, or plain ids for
    custom data. They become model ids through the dataset class's own `map_label`, exactly as in
    training (data/base_dataset.py's module docstring has the rules);
  * colours (`colors`) of one of data/palettes.py's tables: the dataset's official palette, or the
    colours test.py draws label maps in;
  * the model's ids themselves (`model`, what serve.py's page sends; no dataset mapping).
`auto` takes a single-channel file (L, P, 16-bit) or a grey RGB one as ids and any other RGB(A) file
as colours. A value or colour that is no class of the model is a UserError naming the file, the
value and the fix; a size other than the model's is resized with nearest neighbour (`fit`).
"""
import io
import os

import numpy as np

import data
from data import palettes
from data.base_dataset import label_array, list_files, open_decoded, sample_key, valid_ids
from data.cityscapes_dataset import CityscapesDataset
from data.custom_dataset import LABEL_SUFFIXES
from data.transforms import image_size, resize_label
from util.errors import UserError

FORMATS = ('auto', 'ids', 'colors', 'model')
COLOUR_MODES = ('RGB', 'RGBA', 'RGBX', 'RGBa', 'CMYK', 'YCbCr', 'LAB', 'HSV')


class LabelMap:
    """ids: H×W int64 model ids; how: how the file was read (one line); size: the file's (w, h)."""

    def __init__(self, ids, how, size):
        self.ids, self.how, self.size = ids, how, size


def dataset_of(opt):
    """The model's dataset class (custom's, plain class ids, for a model that names none)."""
    return data.dataset_class(getattr(opt, 'dataset_mode', None) or 'custom')


def dataset_ids(raw, opt):
    """A file's raw values -> model ids by the map_label of the model's dataset class."""
    return dataset_of(opt).map_label(raw, opt.label_nc, opt.contain_dontcare_label)


def valid(ids, opt):
    """valid_ids with the model's label settings."""
    return valid_ids(ids, opt.label_nc, opt.contain_dontcare_label)


def ranges(values):
    """[0, 1, 2, 5, 255] -> '0-2, 5, 255'."""
    out, values = [], sorted(int(v) for v in values)
    start = prev = None
    for v in values + [None]:
        if prev is not None and v == prev + 1:
            prev = v
            continue
        if start is not None:
            out.append(f'{start}' if start == prev else f'{start}-{prev}')
        start = prev = v
    return ', '.join(out)


def accepted_raw_values(opt):
    """What a file of the model's dataset may hold, e.g. '0-34 (Cityscapes labelIds)'."""
    raw = np.arange(0, 65536)
    values = ranges(raw[valid(dataset_ids(raw, opt), opt)])
    return f"{values} ({dataset_of(opt).RAW_VALUES})"


def model_ids_text(opt):
    dontcare = f", {opt.label_nc} = don't care" if opt.contain_dontcare_label else ''
    return f"ids 0-{opt.label_nc - 1}{dontcare}"


def detect(img):
    """'colors' for a colour RGB(A) image, else 'ids' (single channel, or grey RGB)."""
    if img.mode not in COLOUR_MODES:
        return 'ids'
    rgb = np.asarray(img.convert('RGB'))
    return 'ids' if (rgb == rgb[..., :1]).all() else 'colors'


def read_label_map(source, opt, fmt='auto', name=None):
    """A label file (path, bytes or file object) -> LabelMap of model ids at the file's own size."""
    if fmt not in FORMATS:
        raise UserError(f"label format {fmt!r}: one of {', '.join(FORMATS)}")
    name = name or str(source)
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    img = open_decoded(source, 'label map', name)
    kind = detect(img) if fmt == 'auto' else fmt
    if kind == 'colors':
        ids, how = colour_ids(np.asarray(img.convert('RGB')), opt, name)
        return LabelMap(ids, how, img.size)
    if detect(img) == 'colors':
        raise UserError(f"{name}: a colour image read as class ids (--label_format {fmt}); pass --label_format "
                        f"colors (or auto) if it holds class colours, or save the ids as a single-channel PNG")
    raw = label_array(img, name)
    if kind == 'model':
        ids, wanted, how = raw, model_ids_text(opt), f'model ids ({img.mode})'
    else:
        ids, wanted = dataset_ids(raw, opt), accepted_raw_values(opt)
        how = f"class ids ({img.mode}, {dataset_of(opt).RAW_VALUES})"
    bad = ~valid(ids, opt)
    if bad.any():
        values, counts = np.unique(raw[bad], return_counts=True)
        listed = ', '.join(f'{v} ({c} px)' for v, c in zip(values[:5], counts[:5]))
        more = f' and {len(values) - 5} more' if len(values) > 5 else ''
        raise UserError(f"{name}: value {listed}{more} is no class of this model, which reads {wanted} "
                        f"(label_nc {opt.label_nc}); repaint those pixels (python -m data.check_labels lists a "
                        f"folder's values), or pass --label_format colors if the file holds colours")
    return LabelMap(ids.astype(np.int64), how, img.size)


def colour_ids(rgb, opt, name):
    """H×W×3 colours -> (model ids, how) through the best-matching palette of the model."""
    best = None
    for palette in palettes.palettes_for(opt):
        ids = palette.lookup(rgb)
        missing = int((ids < 0).sum())
        if best is None or missing < best[0]:
            best = (missing, palette, ids)
        if not missing:
            return ids, f'colours of {palette.title}'
    if best is None:
        raise UserError(f"{name}: a colour label map, but this model has no colour table; save class ids "
                        f"as a single-channel PNG (python -m data.check_labels DIR --convert OUT converts)")
    _, palette, ids = best
    codes, counts = np.unique(palettes.pack_array(rgb[ids < 0]), return_counts=True)
    top = np.argsort(-counts)[:3]
    listed = ', '.join(f'{palettes.unpack(int(codes[i]))} ({counts[i]} px)' for i in top)
    more = f' and {len(codes) - len(top)} more' if len(codes) > len(top) else ''
    raise UserError(f"{name}: colour {listed}{more} is no class colour of this model (closest table: "
                    f"{palette.title}, {len(palette)} classes); repaint with class colours and save as PNG "
                    f"(JPEG and anti-aliasing blend colours), or pass --label_format ids if it holds class ids")


def fit(ids, opt):
    """ids at the model's size: -> (H×W ids, None) or, resized with nearest neighbour, (ids, (w, h) before)."""
    height, width = image_size(opt.crop_size, opt.aspect_ratio)
    h, w = ids.shape
    if (w, h) == (width, height):
        return ids, None
    return resize_label(ids, opt.crop_size, opt.aspect_ratio), (w, h)


def read_instance_map(path):
    """An instance map (ids, any integer PNG) as H×W int64."""
    return label_array(open_decoded(path, 'instance map'), path)


def list_inputs(paths, what='--labels', prefer=CityscapesDataset.LABEL_SUFFIX,
                skip=(CityscapesDataset.INSTANCE_SUFFIX,)):
    """Files given, and the label files in folders given (recursively): where a folder has
    Cityscapes' *<prefer> files, only those (gtFine also holds instance and colour maps)."""
    found = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            files = list_files(path, LABEL_SUFFIXES, f"{what} FILE or FOLDER of *.png", recursive=True)
            preferred = [f for f in files if f.endswith(prefer)]
            files = preferred or [f for f in files if not f.endswith(skip)]
            if not files:
                raise UserError(f"{what} {path}: no label maps ({', '.join(LABEL_SUFFIXES)}) in this folder")
            found += files
        else:
            raise UserError(f"{what} {path}: no such file or folder")
    return found


def pair_instances(labels, paths):
    """{label path: instance path} for --instances FILE|FOLDER ..., matched by `sample_key`."""
    instances = list_inputs(paths, '--instances', prefer=CityscapesDataset.INSTANCE_SUFFIX, skip=())
    if len(labels) == 1 and len(instances) == 1:
        return {labels[0]: instances[0]}
    by_key = {sample_key(p): p for p in instances}
    missing = [p for p in labels if sample_key(p) not in by_key]
    if missing:
        raise UserError(f"{missing[0]}: no instance map named {sample_key(missing[0])}*.png under --instances "
                        f"{' '.join(paths)} ({len(missing)} label maps lack one); give one per label map or "
                        f"leave --instances out")
    return {p: by_key[sample_key(p)] for p in labels}
