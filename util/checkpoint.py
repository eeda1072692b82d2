"""Files that must survive a crash: written durably, read with weights_only=True, and the RNG states.

What a checkpoint holds (the training state) is the model's business: models/checkpoint.py.
"""
import ast
import glob
import json
import os
import random

import numpy as np
import torch

from util.errors import UserError


def save(path, state):
    """torch.save(state) to path, durably (write_durably)."""
    write_durably(path, lambda f: torch.save(state, f))


def save_text(path, text):
    write_durably(path, lambda f: f.write(text.encode('utf-8')))


def save_json(path, obj):
    """obj as indented JSON with sorted keys, durably."""
    save_text(path, json.dumps(obj, indent=1, sort_keys=True) + '\n')


def write_durably(path, write):
    """write(f) into path.tmp (binary), flush it to disk, rename it over path, flush the directory entry.

    The previous file stays whole until the rename, and after a power loss the rename
    cannot have reached the disk before the new file's bytes (the pattern databases use).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = path + '.tmp'
    try:
        with open(tmp, 'wb') as f:
            write(f)
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


def remove_leftovers(folder):
    """Delete the *.pth.tmp files in folder (a save killed mid-write leaves one; the .pth beside it
    is whole) -> the paths removed."""
    removed = sorted(glob.glob(os.path.join(glob.escape(folder), '*.pth.tmp')))
    for path in removed:
        os.remove(path)
    return removed


def read(path, mmap=False):
    """The file torch.save wrote at path, on the CPU; mmap: map the tensors instead of reading them."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True, mmap=mmap)
    except Exception as e:
        raise UserError(f"{path}: unreadable checkpoint ({type(e).__name__}); use another --which_epoch") from None


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
