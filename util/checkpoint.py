"""Checkpoints: checkpoints/<name>/<which>.pth, written atomically, read with weights_only=True.

A checkpoint holds every network, both optimizers, the step counters, learning rates,
the RNG states and the options that fix the architecture, so that --continue_train
resumes exactly and a mismatched option set is caught before any state dict is loaded.
"""
import ast
import os
import random

import numpy as np
import torch

from util.errors import UserError

# Options that change the networks' shapes: a checkpoint only fits the same values.
ARCH_OPTIONS = ('netG', 'label_nc', 'contain_dontcare_label', 'no_instance', 'semantic_nc', 'ngf', 'ngf_lbp',
                'norm_G', 'nhidden', 'num_upsampling_layers', 'crop_size', 'aspect_ratio', 'use_vae', 'z_dim', 'nef')
TRAIN_ARCH_OPTIONS = ('ndf', 'norm_D', 'num_D', 'n_layers_D', 'no_lbp_D')


def path_of(opt, which):
    return os.path.join(opt.checkpoints_dir, opt.name, f'{which}.pth')


def arch_options(opt, train=True):
    keys = ARCH_OPTIONS + (TRAIN_ARCH_OPTIONS if train else ())
    return {k: getattr(opt, k, None) for k in keys}


def save(path, state):
    """Write to path.tmp, then rename: a kill mid-write leaves the previous file intact."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path, opt, train):
    if not os.path.isfile(path):
        raise UserError(f"no checkpoint at {path}: train first (python train.py --name {opt.name}) or check "
                        f"--name, --checkpoints_dir and --which_epoch")
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        raise UserError(f"{path}: unreadable checkpoint ({type(e).__name__}); use another --which_epoch") from None
    saved = state.get('options', {})
    ours = arch_options(opt, train)
    diff = [f"--{k} {saved[k]} (now {ours[k]})" for k in ours if k in saved and saved[k] != ours[k]]
    if diff:
        raise UserError(f"{path} was trained with {', '.join(diff)}: pass the same options or "
                        f"--load_from_opt_file")
    return state


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

