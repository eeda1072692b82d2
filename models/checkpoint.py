"""What a checkpoint holds, and the one reader of a trained run.

checkpoints/<name>/<which>.pth (written durably by util/checkpoint.py) holds 'networks' (name ->
state dict, Pix2PixModel.networks()'s names), 'epoch', 'epoch_iter', 'iteration' and 'options': every
option that shapes a network loaded for inference (ARCH_OPTIONS), D's shape and the LBP gradient a run
was trained with (TRAIN_ARCH_OPTIONS) and its dataset mode (DATA_OPTIONS). A training checkpoint
(`latest`) adds the trainer's state and the RNG states, so that --continue_train resumes exactly; epoch
snapshots (<epoch>.pth) leave those out (a third of the size) unless --save_full_snapshots.

`TrainedRun` opens a run once (the .pth memory-mapped, opt.json) and says what it fixed (`fixed`):
the defaults of test.py, evaluate.py, generate.py, serve.py and the Synthesizer. One conflict rule for
all of them: a value given on a command line wins over what the run fixed, except one that would not
fit the networks, which is refused with the file named (`check_fits`).
"""
import json
import os
from types import SimpleNamespace

import util.checkpoint as durable
from models import unwrap
from util.errors import UserError

# Options that change the networks' shapes: a checkpoint only fits the same values.
ARCH_OPTIONS = ('netG', 'label_nc', 'contain_dontcare_label', 'no_instance', 'semantic_nc', 'ngf', 'ngf_lbp',
                'norm_G', 'norm_E', 'nhidden', 'nhidden_lbp', 'lbp_variant', 'num_upsampling_layers', 'crop_size',
                'aspect_ratio', 'use_vae', 'z_dim')
# Compared on resume only: D's shape, and the LBP gradient a run was trained with (stored so a
# checkpoint says how it was trained).
TRAIN_ARCH_OPTIONS = ('ndf', 'norm_D', 'num_D', 'n_layers_D', 'no_lbp_D', 'no_lbp_image_fake', 'lbp_grad_width',
                      'lbp_grad_colour')
# Stored as defaults, never compared: testing on other data is allowed.
DATA_OPTIONS = ('dataset_mode',)
DERIVED_OPTIONS = ('semantic_nc',)  # computed from others, not an option one can pass
# Where the run's data was (opt.json's): the tools read the same data unless told otherwise.
LOCATION_OPTIONS = ('dataroot', 'label_dir', 'image_dir', 'instance_dir')
# What checkpoints written before an option was stored were trained with (its only value then).
OLD_CHECKPOINTS = {'norm_E': 'spectralinstance', 'lbp_variant': 'classic', 'nhidden_lbp': None}
# What building the networks for inference asks that the run may not fix: the initialisation (the
# loaded weights replace it), training-only settings, the run's own choices, and plain class ids for
# a checkpoint too old to name its dataset.
INFERENCE_SETTINGS = {'is_train': False, 'init_type': 'xavier', 'init_variance': 0.02, 'lbp_grad_width': 2.0,
                      'lbp_grad_colour': 'grey',
                      'random_style': False, 'compile': False, 'label_convs': 'auto', 'force_amp': False,
                      'dataset_mode': 'custom'}


def path_of(opt, which):
    return os.path.join(opt.checkpoints_dir, opt.name, f'{which}.pth')


class TrainedRun:
    """checkpoints/<name>: its <which_epoch>.pth (None when there is none yet; memory-mapped unless a
    resume is to own its tensors) and its opt.json ({} without one), each opened once."""

    def __init__(self, folder, which_epoch='latest', mmap=True):
        self.folder = os.path.normpath(str(folder))
        self.name = os.path.basename(self.folder)
        self.path = os.path.join(self.folder, f'{which_epoch}.pth')
        self.opt_file, self.trained = read_opt_json(self.folder)
        self.state = durable.read(self.path, mmap=mmap) if os.path.isfile(self.path) else None

    @property
    def stored(self):
        """The options the .pth stores ({} without a .pth)."""
        return (self.state or {}).get('options', {})

    def fixed(self):
        """The options this run fixed, as a command line's defaults: the networks' (the .pth's; opt.json's
        or OLD_CHECKPOINTS' where an older .pth lacks one), its dataset mode and, from opt.json, where
        its data was."""
        keys = ARCH_OPTIONS + DATA_OPTIONS
        found = dict(OLD_CHECKPOINTS) if self.state else {}
        found.update({k: v for k, v in self.trained.items() if k in keys})
        found.update({k: v for k, v in self.stored.items() if k in keys})
        found.update({k: self.trained[k] for k in LOCATION_OPTIONS if self.trained.get(k)})
        return {k: v for k, v in found.items() if k not in DERIVED_OPTIONS}

    def require_state(self):
        if self.state is None:
            raise UserError(f"no checkpoint at {self.path}: train first (python train.py --name {self.name}) or "
                            f"check --name, --checkpoints_dir and --which_epoch")
        return self.state


def read_opt_json(folder):
    """(path, options) of <folder>/opt.json, which train.py writes, or (None, {}) without one."""
    path = os.path.join(folder, 'opt.json')
    if not os.path.isfile(path):
        return None, {}
    try:
        with open(path) as f:
            return path, json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: cannot be read ({type(e).__name__}); move the file away (and pass the options "
                        f"it held), or train again") from None


def inference_options(run, device, amp='none'):
    """The options Pix2PixModel needs to hold `run`'s networks for inference on `device`, from what
    the run fixed alone (no command line)."""
    opt = SimpleNamespace(**{**INFERENCE_SETTINGS, **run.fixed()}, device=device, amp=amp)
    opt.semantic_nc = opt.label_nc + int(opt.contain_dontcare_label) + int(not opt.no_instance)
    return opt


def check_fits(saved, opt, path, train):
    """The conflict rule's refusal: an option of opt that the checkpoint at path was trained with
    otherwise (only those that shape the networks; D's too when train)."""
    keys = ARCH_OPTIONS + (TRAIN_ARCH_OPTIONS if train else ())
    diff = [f"--{k} {saved[k]} (now {getattr(opt, k, None)})" for k in keys
            if k in saved and saved[k] != getattr(opt, k, None)]
    if diff:
        fix = "pass the same values or --load_from_opt_file" if train else \
            "leave these options out (the checkpoint sets them) or pass the same values"
        raise UserError(f"{path}: trained with {', '.join(diff)}; {fix}")


def load_networks(model, run, opt):
    """run's networks into model, for inference: -> model in eval mode."""
    state = run.require_state()
    check_fits(run.stored, opt, run.path, train=False)
    load_state(model, state, run.path)
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


def save_training(path, model, trainer, opt, epoch, epoch_iter, full=True):
    """full: everything --continue_train needs (resuming at (epoch, epoch_iter) replays the same
    batches). Not full (an epoch snapshot): the networks, options, epoch and iteration that test.py
    needs, without the optimizers' state (2/3 of a full file with Adam) and the RNG states."""
    keys = ARCH_OPTIONS + TRAIN_ARCH_OPTIONS + DATA_OPTIONS
    state = {'networks': {k: unwrap(n).state_dict() for k, n in model.networks().items()},
             'epoch': epoch, 'epoch_iter': epoch_iter, 'iteration': trainer.iteration,
             'options': {k: getattr(opt, k, None) for k in keys}}
    if full:
        state.update(trainer=trainer.state_dict(), rng=durable.rng_state())
    durable.save(path, state)


def resume(model, trainer, opt):
    """Load opt.which_epoch into the model, trainer and RNGs -> (epoch, epoch_iter) to go on from."""
    run = TrainedRun(os.path.join(opt.checkpoints_dir, opt.name), opt.which_epoch, mmap=False)
    state = run.require_state()
    check_fits(run.stored, opt, run.path, train=True)
    load_state(model, state, run.path)
    if 'trainer' not in state:  # an epoch snapshot saved without --save_full_snapshots
        trainer.iteration = state.get('iteration', 0)
        print(f"{run.path} holds no optimizer state (an epoch snapshot): the optimizers restart from zero at "
              f"iteration {trainer.iteration}, epoch {state['epoch']} (--save_full_snapshots keeps it in epoch "
              f"snapshots)")
        return state['epoch'], state['epoch_iter']
    try:
        trainer.load_state_dict(state['trainer'])
    except (KeyError, ValueError, RuntimeError) as e:
        raise UserError(f"{run.path}: its optimizer state does not fit this model ({type(e).__name__}); train "
                        f"with the options it was written with, or start afresh without --continue_train") from None
    durable.set_rng_state(state['rng'])
    return state['epoch'], state['epoch_iter']
