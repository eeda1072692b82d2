"""Finding published weight files: an explicit path, else the torch hub cache, else the official URL.

Nothing here is downloaded in tests or CI; a file that cannot be found or fetched is a
UserError that says where to put it and which option turns the feature off.
"""
import os
import socket

import torch

from util.errors import UserError


class MissingWeights(UserError):
    """The weight file is not there (and could not be fetched): --allow_missing may skip its metric."""


def hub_checkpoint_path(filename):
    """Where a published weight file is looked for (and downloaded to): the torch hub's checkpoints
    folder, which follows TORCH_HOME and XDG_CACHE_HOME. scripts/common.sh asks for it too
    (`python -m util.weights` prints the folder)."""
    return os.path.join(torch.hub.get_dir(), 'checkpoints', filename)


def load_published_weights(path, filename, url, what, path_option, off_hint, download=True):
    """Return the state dict of a published weight file.

    path: the user's --xxx_weights value ('' to search); filename/url: the official file;
    what: what the weights are for, e.g. 'VGG19 perceptual loss'; off_hint: how to do without.
    """
    if path:
        if not os.path.isfile(path):
            raise MissingWeights(f"{path_option} {path}: no such file ({what} needs {filename} from {url}); "
                            f"{off_hint}")
        return _load(path, what)
    cached = hub_checkpoint_path(filename)
    if not os.path.isfile(cached):
        if not download:
            raise MissingWeights(f"{what}: {filename} not found at {cached}; download it from {url} and put it "
                            f"there or pass {path_option} PATH; {off_hint}")
        _download(url, cached, what, path_option, off_hint)
    return _load(cached, what)


def _download(url, dest, what, path_option, off_hint):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)  # an offline machine should fail fast, not hang
    try:
        torch.hub.download_url_to_file(url, dest, progress=False)
    except Exception as e:  # any network failure means the same thing to the user
        raise MissingWeights(f"{what}: {os.path.basename(dest)} is not at {dest} and downloading {url} failed "
                        f"({type(e).__name__}); download it yourself and put it there or pass "
                        f"{path_option} PATH; {off_hint}") from None
    finally:
        socket.setdefaulttimeout(old)


def _load(path, what):
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        raise UserError(f"{path}: cannot be read as a weight file for {what} ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}); download it again") from None
    # Some releases wrap the weights ({'state_dict': ...}) or keep DataParallel's 'module.' prefix.
    if isinstance(state, dict) and 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    return {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}


def check_state_dict(module, state, path_label):
    """Load state into module, turning a name/shape mismatch into one clear line."""
    own = module.state_dict()
    missing = [k for k in own if k not in state and not k.endswith('num_batches_tracked')]
    bad_shape = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or bad_shape:
        detail = f"missing {missing[:3]}" if missing else f"shape of {bad_shape[0]} is " \
            f"{tuple(state[bad_shape[0]].shape)}, expected {tuple(own[bad_shape[0]].shape)}"
        raise UserError(f"{path_label}: not the expected weight file ({detail})")
    module.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)


if __name__ == '__main__':
    print(os.path.dirname(hub_checkpoint_path('x')))
