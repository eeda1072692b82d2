"""A trained model as a release: a folder that any checkout can load, without the run that trained it.

    DIR/model.safetensors  the generator side only (G_I, G_L, E with --use_vae), '<network>.<state key>'
                           -> tensor; float32, or float16 (export.py --half)
    DIR/config.json        {'release_format_version', 'model': ModelConfig.to_dict(), 'weights': {dtype,
                           networks}, 'labels': {dataset_mode, palette, classes}, 'trained': {run, ...}}
    DIR/README.md          the model card (inference/model_card.py); its line SHA_LINE holds the sha256 of
                           model.safetensors, checked on load unless verify=False

safetensors, not a pickle: reading a downloaded release runs no code. `open_trained` takes a release or
a run's checkpoints/<name>, so that every tool loads either. A file that is missing, unreadable,
of another format or not this config's weights is one UserError naming the file.
"""
import hashlib
import json
import os
import re

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors, save as save_safetensors

import util.checkpoint as durable
from models import unwrap
from models.checkpoint import TrainedRun
from models.config import ModelConfig
from util.errors import UserError

# The layout of config.json and of the folder; a reader refuses a newer one rather than guess.
RELEASE_FORMAT_VERSION = 1
WEIGHTS, CONFIG, CARD = 'model.safetensors', 'config.json', 'README.md'
GENERATORS = ('G', 'GL', 'E')  # what a release holds of Pix2PixModel.networks(): no D_I, D_L
SHA_LINE = 'sha256 of model.safetensors: `{}`'
SHA_PATTERN = re.compile(r'sha256 of model\.safetensors: `([0-9a-f]{64})`')


def is_release(folder):
    return any(os.path.isfile(os.path.join(folder, f)) for f in (CONFIG, WEIGHTS))


def open_trained(folder, which_epoch='latest', verify=True):
    """A release folder (Release) or a run's checkpoints/<name> (TrainedRun, whose <which_epoch>.pth must
    be there), checked before any network is built."""
    folder = os.path.normpath(str(folder))
    if not is_release(folder):
        run = TrainedRun(folder, which_epoch)
        run.require_state()
        return run
    if which_epoch != 'latest':
        raise UserError(f"{folder}: a release holds one set of weights; leave --which_epoch {which_epoch} out")
    return Release(folder, verify)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_release(folder, model, info, dtype=torch.float32):
    """model's generator networks (in dtype) as folder/model.safetensors and info (with the model's config)
    as folder/config.json, each written durably -> the weights' sha256 (for the card, written last)."""
    tensors = {}
    for name, net in model.networks().items():
        if name not in GENERATORS:
            continue
        for key, t in unwrap(net).state_dict().items():
            t = t.detach().cpu()
            tensors[f'{name}.{key}'] = (t.to(dtype) if t.is_floating_point() else t).contiguous()
    data = save_safetensors(tensors, metadata={'format': 'pt'})
    durable.write_durably(os.path.join(folder, WEIGHTS), lambda f: f.write(data))
    weights = {'dtype': str(dtype).replace('torch.', ''), 'networks': sorted({k.split('.')[0] for k in tensors})}
    config = {'release_format_version': RELEASE_FORMAT_VERSION, 'model': model.config.to_dict(), 'weights': weights,
              **info}
    durable.save_json(os.path.join(folder, CONFIG), config)
    return sha256(data)


class Release:
    """A release folder, read and checked once: config (ModelConfig), info (config.json), the tensors.
    verify: the weights' sha256 must be the card's."""

    def __init__(self, folder, verify=True):
        self.folder = os.path.normpath(str(folder))
        self.name = os.path.basename(os.path.abspath(self.folder))
        self.path = os.path.join(self.folder, WEIGHTS)
        for f in (CONFIG, WEIGHTS) + ((CARD,) if verify else ()):
            if not os.path.isfile(os.path.join(self.folder, f)):
                why = ' (its model card, which holds the checksum; --no_verify loads without it)' if f == CARD else ''
                raise UserError(f"{os.path.join(self.folder, f)}: missing{why}; a release folder holds "
                                f"{WEIGHTS}, {CONFIG} and {CARD} as export.py writes them")
        self.info = self.read_info()
        self.config = ModelConfig.from_dict(self.info.get('model'), os.path.join(self.folder, CONFIG))
        with open(self.path, 'rb') as f:
            data = f.read()
        self.tensors = self.read_tensors(data)
        if verify:
            self.check_sha(sha256(data))

    def read_info(self):
        path = os.path.join(self.folder, CONFIG)
        try:
            with open(path, encoding='utf-8') as f:
                info = json.load(f)
        except (OSError, ValueError) as e:
            raise UserError(f"{path}: not readable JSON ({type(e).__name__}: {e}); export the release again") from None
        version = info.get('release_format_version') if isinstance(info, dict) else None
        if not isinstance(version, int):
            raise UserError(f"{path}: no release_format_version: not a ULBPGAN release's config; use a folder "
                            f"export.py wrote")
        if version > RELEASE_FORMAT_VERSION:
            raise UserError(f"{path}: release format version {version}, newer than this code reads "
                            f"({RELEASE_FORMAT_VERSION}); update ULBPGAN to load it")
        return info

    def read_tensors(self, data):
        try:
            tensors = load_safetensors(data)
        except (SafetensorError, ValueError, RuntimeError) as e:
            detail = ' '.join(str(e).split()) or type(e).__name__
            raise UserError(f"{self.path}: not a readable safetensors file ({detail}); it is damaged or "
                            f"truncated: download or export it again") from None
        return tensors

    def check_sha(self, actual):
        card = os.path.join(self.folder, CARD)
        with open(card, encoding='utf-8', errors='replace') as f:
            found = SHA_PATTERN.search(f.read())
        if found is None:
            raise UserError(f"{card}: has no line '{SHA_LINE.format('<64 hex digits>')}' to check {WEIGHTS} "
                            f"against; restore the card export.py wrote, or pass --no_verify")
        if found.group(1) != actual:
            raise UserError(f"{self.path}: its sha256 is {actual[:16]}..., the card {card} says "
                            f"{found.group(1)[:16]}...: the file was changed or damaged; download or export it "
                            f"again, or pass --no_verify (verify=False) to load it anyway")

    def fixed(self):
        """The options this model fixed, as a command line's defaults (no data location: a release has none)."""
        return {k: v for k, v in self.config.to_dict().items() if k in ModelConfig.names()}

    def load_into(self, model):
        """The weights into model's networks (built from self.config) -> model in eval mode."""
        nets = {name: unwrap(net) for name, net in model.networks().items()}
        states = {name: net.state_dict() for name, net in nets.items()}
        self.check_fits(states)
        for name, net in nets.items():
            net.load_state_dict({k: self.tensors[f'{name}.{k}'].to(v.dtype) for k, v in states[name].items()})
        self.tensors = None  # (the networks own copies now)
        return model.eval()

    def check_fits(self, states):
        """Every tensor the config builds is there, with its shape and kind, and nothing else."""
        wanted = {f'{name}.{k}': v for name, state in states.items() for k, v in state.items()}
        fix = f"this file is not the weights {CONFIG} describes: use the release's own files, or export it again"
        for key, own in wanted.items():
            t = self.tensors.get(key)
            if t is None:
                raise UserError(f"{self.path}: tensor {key} is missing; {fix}")
            if tuple(t.shape) != tuple(own.shape):
                raise UserError(f"{self.path}: tensor {key} has shape {tuple(t.shape)}, the config builds "
                                f"{tuple(own.shape)}; {fix}")
            if t.is_floating_point() != own.is_floating_point():
                raise UserError(f"{self.path}: tensor {key} is {t.dtype}, the config builds {own.dtype}; {fix}")
        extra = sorted(set(self.tensors) - set(wanted))
        if extra:
            raise UserError(f"{self.path}: holds {len(extra)} tensor(s) the config does not build ({extra[0]}, ...); "
                            f"{fix}")
