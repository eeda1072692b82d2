"""A trained model as a function: label ids in, images (and LBP maps) out. Used by generate.py and serve.py.

    import torch
    from inference import Synthesizer
    synth = Synthesizer('checkpoints/demo', device=torch.device('cpu'))  # or a release folder (export.py's)
    ids = synth.read_labels('datasets/demo/gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_labelIds.png')
    out = synth(ids, seed=0)                                  # H×W or N×H×W model ids (numpy or torch)
    out.image, out.lbp                                        # H×W×3 uint8, H×W uint8 (None without G_L)

Everything the networks need is the run's config (models/config.py's ModelConfig, which every .pth
and every release's config.json holds: label count, don't care, instance channel, size, LBP variant,
netG, norm_E, ...), read by models/checkpoint.py's TrainedRun or models/release.py's Release; no
command line is parsed and no opt.json is needed. test.py loads a run the same way
(models.checkpoint.load_networks). device None: CUDA if there, else the CPU.

Label ids are the model's (0..label_nc-1, label_nc = don't care with --contain_dontcare_label); files
in a dataset's own convention go through `read_labels` (data/label_maps.py). `fit` is the one check
and resize of a map at inference: ids that are no class are refused, another size is resized with
nearest neighbour (said once). Without an instance map, a model with the instance-edge channel gets
the label map itself as instances (an edge at every class boundary). With --use_vae the style is
random (`seed` fixes it: one style per image, whatever the batching), or the encoder's mean for a
style photo (`style`). One call at a time per Synthesizer (a lock): serve.py's threads share one.
"""
import io
import os
import threading
from collections import namedtuple
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

import util.amp as amp
from data import label_maps, palettes
from data.base_dataset import open_decoded
from data.transforms import Preprocess, image_size, transform_image
from models.networks import label_convs
from models.release import open_trained
from models.pix2pix_model import Pix2PixModel
from util import machine
from util.errors import UserError
from util.images import tensor2im

Result = namedtuple('Result', 'image lbp')
AMP = {None: 'none', torch.float32: 'none', torch.bfloat16: 'bf16', torch.float16: 'fp16',
       'fp32': 'none', 'none': 'none', 'bf16': 'bf16', 'fp16': 'fp16'}


class Synthesizer:
    def __init__(self, checkpoint, device=None, dtype=torch.float32, which_epoch='latest', batch_size=1,
                 verify=True):
        """checkpoint: a release folder (export.py's) or a run's folder checkpoints/<name> (its
        <which_epoch>.pth); dtype: float32, or bfloat16 / float16 to run under autocast as --amp does;
        batch_size: images per forward pass; verify: a release's weights must have its card's sha256."""
        if dtype not in AMP:
            raise UserError(f"dtype {dtype}: one of torch.float32, torch.bfloat16, torch.float16")
        if batch_size < 1:
            raise UserError(f"batch size {batch_size}: must be at least 1")
        self.run = open_trained(checkpoint, which_epoch, verify)  # a clear error before anything is built
        self.config = config = self.run.config
        self.device = machine.as_device(device)
        runtime = SimpleNamespace(device=self.device, amp=AMP[dtype])  # what --amp and --label_convs auto read
        self.precision = amp.autocast(runtime)
        self.model = self.run.load_into(Pix2PixModel(config, label_convs=label_convs(runtime)).to(self.device))
        height, width = image_size(config.crop_size, config.aspect_ratio)
        self.size = (width, height)
        self.batch_size = batch_size
        self.lock = threading.Lock()
        self.resized_once = False

    # ---- what the model is ----
    @property
    def has_lbp(self):
        return self.model.use_lbp

    @property
    def use_vae(self):
        return self.config.use_vae

    def classes(self):
        """[(id, name, (r, g, b))] of the model's classes (data/palettes.py)."""
        return palettes.classes_for(self.config)

    def read_labels(self, source, fmt='auto', name=None):
        """A label file (path or bytes) in the dataset's ids or colours -> H×W model ids at its own size."""
        return label_maps.read_label_map(source, self.config, fmt, name).ids

    # ---- synthesis ----
    def __call__(self, labels, instances=None, style=None, seed=None, output='numpy'):
        """labels: model ids, H×W or N×H×W (numpy or torch); instances: the same shape or None; style: a
        photo (path, PIL image, H×W×3 uint8 array) with a --use_vae model; seed: fixes random styles (an int,
        image i's style then seeded by style_seed(seed, i); or one int per image).
        -> Result(image, lbp): uint8 H×W×3 and H×W arrays (N× first for N×H×W labels), lbp None without
        G_L; output='tensor' gives float tensors in [-1, 1] (N×3×H×W, N×1×H×W) instead."""
        ids, single = self.as_ids(labels, 'labels')
        inst = None
        if instances is not None:
            inst, _ = self.as_ids(instances, 'instances', check=False)
            if inst.shape[0] != ids.shape[0]:
                raise UserError(f"instances: {inst.shape[0]} maps for {ids.shape[0]} label maps")
        if output not in ('numpy', 'tensor'):
            raise UserError(f"output {output!r}: 'numpy' or 'tensor'")
        with self.lock:
            z = self.styles(len(ids), style, seed)
            images, lbps = [], []
            for start in range(0, len(ids), self.batch_size):
                part = slice(start, start + self.batch_size)
                image, lbp = self.forward(ids[part], None if inst is None else inst[part],
                                          None if z is None else z[part])
                images.append(image)
                lbps.append(lbp)
        image = torch.cat(images)
        lbp = None if lbps[0] is None else torch.cat(lbps)
        if output == 'numpy':
            image = np.stack([tensor2im(x) for x in image])
            lbp = None if lbp is None else np.stack([tensor2im(x) for x in lbp])
        if single:
            image, lbp = image[0], None if lbp is None else lbp[0]
        return Result(image, lbp)

    def as_ids(self, labels, what, check=True):
        """-> (N×H×W int64 numpy ids at the model's size, whether one H×W map was given)."""
        arr = labels.detach().cpu().numpy() if torch.is_tensor(labels) else np.asarray(labels)
        if arr.ndim == 4 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim not in (2, 3) or 0 in arr.shape:
            raise UserError(f"{what}: an H×W or N×H×W array of class ids, not shape {tuple(arr.shape)}")
        if arr.dtype.kind not in 'iub' and not (arr.dtype.kind == 'f' and np.all(arr == np.round(arr))):
            raise UserError(f"{what}: integer class ids, not {arr.dtype} values")
        single = arr.ndim == 2
        arr = arr.astype(np.int64)[None] if single else arr.astype(np.int64)
        maps = [self.fit(a, what, check)[0] for a in arr]
        return np.stack(maps), single

    def fit(self, ids, what='labels', check=True):
        """One H×W map of model ids -> (the map at the model's size, its (w, h) before resizing or None).
        check: ids that are no class of the model are refused, naming `what`."""
        if check:
            bad = ~label_maps.valid(ids, self.config)
            if bad.any():
                values = ', '.join(str(v) for v in np.unique(ids[bad])[:5])
                raise UserError(f"{what}: id(s) {values} are no class of this model "
                                f"({label_maps.model_ids_text(self.config)})")
        fitted, before = label_maps.fit(ids, self.config)
        if before and check and not self.resized_once:
            print(f"resizing label maps to the model's {self.size[0]}x{self.size[1]} with nearest neighbour "
                  f"({what} is {before[0]}x{before[1]})")
            self.resized_once = True
        return fitted, before

    def styles(self, n, style, seed):
        """N×z_dim style vectors, or None for a model without the encoder's style input."""
        if not self.use_vae:
            if style is not None:
                raise UserError("a style photo needs a model trained with --use_vae (this one has no style encoder)")
            return None
        if style is not None:
            photo = self.style_tensor(style).to(self.device)
            with torch.inference_mode(), self.precision:
                _, mu, _ = self.model.encode_z(photo)
            return mu.float().expand(n, -1)
        if seed is None:
            return torch.randn(n, self.config.z_dim).to(self.device)
        seeds = [style_seed(seed, i) for i in range(n)] if np.ndim(seed) == 0 else list(seed)
        if len(seeds) != n:
            raise UserError(f"seed: one per label map ({n}), not {len(seeds)}")
        return torch.stack([torch.randn(self.config.z_dim, generator=torch.Generator().manual_seed(int(s)))
                            for s in seeds]).to(self.device)

    def style_tensor(self, style):
        """A photo -> 1×3×H×W in [-1, 1] at the model's size (bicubic, as the loaders)."""
        if isinstance(style, (str, os.PathLike)):
            img = open_decoded(style, 'style image')
        elif isinstance(style, (bytes, bytearray)):
            img = open_decoded(io.BytesIO(style), 'style image', 'the style photo')
        elif isinstance(style, Image.Image):
            img = style
        else:
            arr = np.asarray(style)
            if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
                raise UserError(f"style: a path, PIL image or H×W×3 uint8 array, not {arr.dtype} {arr.shape}")
            img = Image.fromarray(arr)
        img = img.convert('RGB')
        c = self.config
        fixed = Preprocess('fixed', crop_size=c.crop_size, aspect_ratio=c.aspect_ratio)  # a plain resize
        return transform_image(img, fixed, {'crop_pos': (0, 0), 'flip': False})[None]

    def forward(self, ids, inst, z):
        """One batch: N×H×W ids (+ instances, styles) -> (N×3×H×W image, N×1×H×W LBP map or None), on the CPU."""
        label = torch.from_numpy(ids)[:, None]
        instance = torch.tensor(0)
        if not self.config.no_instance:
            instance = torch.from_numpy(ids if inst is None else inst)[:, None]
        with torch.inference_mode(), self.precision:
            semantics, _ = self.model.preprocess_input({'label': label, 'instance': instance})
            fake, _ = self.model.generate_fake(semantics, z=z)  # z given: no style drawn inside G per batch
        image, lbp = fake['synthesized_image'], fake['synthesized_lbp']
        return image.float().cpu(), None if lbp is None else lbp.float().cpu()


def style_seed(seed, index):
    """The RNG seed of image `index`'s style for a call's `seed`: each image's own, so a style does not
    depend on which other images share its batch."""
    return (int(seed) * 1_000_003 + index) % 2 ** 63
