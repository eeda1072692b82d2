"""Checkpoints: checkpoints/<name>/<which>.pth, written durably, read with weights_only=True.

A training checkpoint (`latest`) holds every network, both optimizers, the step counters, learning
rates, the RNG states and the options that fix the architecture, so that --continue_train
resumes exactly, test.py needs only --name, and a mismatched option set is caught before
any state dict is loaded. Epoch snapshots (<epoch>.pth) leave out the optimizers and RNG states
(a third of the size) unless --save_full_snapshots; resuming from one restarts the optimizers.
train.py saves and resumes, test.py loads, all through here.
"""
import ast
import glob
import os
import random

import numpy as np
import torch

from models import unwrap
from util.errors import UserError

# Options that change the networks' shapes: a checkpoint only fits the same values.
ARCH_OPTIONS = ('netG', 'label_nc', 'contain_dontcare_label', 'no_instance', 'semantic_nc', 'ngf', 'ngf_lbp',
                'norm_G', 'nhidden', 'nhidden_lbp', 'lbp_variant', 'num_upsampling_layers', 'crop_size',
                'aspect_ratio', 'use_vae', 'z_dim')
# Compared on resume only: D's shape, and the LBP gradient a run was trained with (stored so a
# checkpoint says how it was trained).
TRAIN_ARCH_OPTIONS = ('ndf', 'norm_D', 'num_D', 'n_layers_D', 'no_lbp_D', 'no_lbp_image_fake', 'lbp_grad_width')
# Stored so that test.py can default to them, never compared: testing on other data is allowed.
DATA_OPTIONS = ('dataset_mode',)
DERIVED_OPTIONS = ('semantic_nc',)  # computed from others, not an option one can pass


def path_of(opt, which):
    return os.path.join(opt.checkpoints_dir, opt.name, f'{which}.pth')


def arch_options(opt, train=True):
    keys = ARCH_OPTIONS + (TRAIN_ARCH_OPTIONS if train else ())
    return {k: getattr(opt, k, None) for k in keys}


def save(path, state):
    """Write path.tmp, flush it to disk, rename it over path, flush the directory entry.

    The previous file stays whole until the rename, and after a power loss the rename
    cannot have reached the disk before the new file's bytes (the pattern databases use).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = path + '.tmp'
    try:
        with open(tmp, 'wb') as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if os.path.isfile(tmp):  # (open itself may have failed: keep that error, not a second one)
            os.remove(tmp)
        raise
    os.replace(tmp, path)
    fsync_dir(folder)


def fsync_dir(folder):
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_training(path, model, trainer, opt, epoch, epoch_iter, full=True):
    """full: everything --continue_train needs (resuming at (epoch, epoch_iter) replays the same
    batches). Not full (an epoch snapshot): the networks, options, epoch and iteration that test.py
    needs, without the optimizers' state (2/3 of a full file with Adam) and the RNG states."""
    state = {'networks': {k: unwrap(n).state_dict() for k, n in model.networks().items()},
             'epoch': epoch, 'epoch_iter': epoch_iter, 'iteration': trainer.iteration,
             'options': {**arch_options(opt), **data_options(opt)}}
    if full:
        state.update(trainer=trainer.state_dict(), rng=rng_state())
    save(path, state)


def remove_leftovers(opt):
    """Delete the *.pth.tmp files in checkpoints/<name>/ (a save killed mid-write leaves one; the
    .pth beside it is whole) -> the paths removed."""
    folder = os.path.join(opt.checkpoints_dir, opt.name)
    removed = sorted(glob.glob(os.path.join(glob.escape(folder), '*.pth.tmp')))
    for path in removed:
        os.remove(path)
    return removed


def data_options(opt):
    return {k: getattr(opt, k) for k in DATA_OPTIONS}


def resume(model, trainer, opt):
    """Load opt.which_epoch into the model, trainer and RNGs -> (epoch, epoch_iter) to go on from."""
    path = path_of(opt, opt.which_epoch)
    state = load(path, opt, train=True)
    load_state(model, state, path)
    if 'trainer' not in state:  # an epoch snapshot saved without --save_full_snapshots
        trainer.iteration = state.get('iteration', 0)
        print(f"{path} holds no optimizer state (an epoch snapshot): the optimizers restart from zero at iteration "
              f"{trainer.iteration}, epoch {state['epoch']} (--save_full_snapshots keeps it in epoch snapshots)")
        return state['epoch'], state['epoch_iter']
    try:
        trainer.load_state_dict(state['trainer'])
    except (KeyError, ValueError, RuntimeError) as e:
        raise UserError(f"{path}: its optimizer state does not fit this model ({type(e).__name__}); train "
                        f"with the options it was written with, or start afresh without --continue_train") from None
    set_rng_state(state['rng'])
    return state['epoch'], state['epoch_iter']


def load_networks(model, opt):
    """The networks of opt.which_epoch, for inference: -> model in eval mode."""
    path = path_of(opt, opt.which_epoch)
    load_state(model, load(path, opt, train=False), path)
    return model.eval()


def load_state(model, state, path):
    """The networks' weights from a checkpoint's state; a mismatch is one line naming the file."""
    try:
        for name, net in model.networks().items():
            unwrap(net).load_state_dict(state['networks'][name])
    except (KeyError, RuntimeError) as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()] or [type(e).__name__]
        detail = lines[1] if len(lines) > 1 else lines[0]  # torch's first line only names the module
        raise UserError(f"{path}: its networks do not fit these options ({detail}); pass the options it was "
                        f"trained with (e.g. --load_from_opt_file) or another --which_epoch") from None


def read(path, opt, mmap=False):
    """mmap: map the tensors instead of reading them (for a look at the options only)."""
    if not os.path.isfile(path):
        raise UserError(f"no checkpoint at {path}: train first (python train.py --name {opt.name}) or check "
                        f"--name, --checkpoints_dir and --which_epoch")
    try:
        return torch.load(path, map_location='cpu', weights_only=True, mmap=mmap)
    except Exception as e:
        raise UserError(f"{path}: unreadable checkpoint ({type(e).__name__}); use another --which_epoch") from None


def load(path, opt, train):
    """The checkpoint at path, after checking that opt builds the networks it holds."""
    state = read(path, opt)
    saved = state.get('options', {})
    ours = arch_options(opt, train)
    diff = [f"--{k} {saved[k]} (now {ours[k]})" for k in ours if k in saved and saved[k] != ours[k]]
    if diff:
        fix = "pass the same values or --load_from_opt_file" if train else \
            "leave these options out (the checkpoint sets them) or pass the same values"
        raise UserError(f"{path}: trained with {', '.join(diff)}; {fix}")
    return state


def stored_options(path, opt):
    """The options a checkpoint fixes (its architecture, its dataset mode), as defaults for test.py;
    {} when there is no checkpoint yet (test.py then says so when it loads the networks)."""
    if not os.path.isfile(path):
        return {}
    saved = read(path, opt, mmap=True).get('options', {})
    return {k: v for k, v in saved.items() if k in ARCH_OPTIONS + DATA_OPTIONS and k not in DERIVED_OPTIONS}


def rng_state():
    state = {'torch': torch.get_rng_state(), 'numpy': torch.from_numpy(np.random.get_state()[1].astype(np.int64)),
             'numpy_pos': int(np.random.get_state()[2]), 'python': repr(random.getstate())}
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    torch.set_rng_state(state['torch'])
    np.random.set_state(('MT19937', state['numpy'].numpy().astype(np.uint32), state['numpy_pos']))
    random.setstate(ast.literal_eval(state['python']))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
