"""What a checkpoint holds, the run's opt.json, and the one reader of a trained run.

checkpoints/<name>/<which>.pth (written durably by util/checkpoint.py) holds 'networks' (name ->
state dict, Pix2PixModel.networks()'s names), 'config' (the model's ModelConfig, models/config.py,
whole, as builtins), 'epoch', 'epoch_iter' and 'iteration'. A training checkpoint (`latest`) adds the
trainer's state and the RNG states, so that --continue_train resumes exactly; epoch snapshots
(<epoch>.pth) leave those out (a third of the size) unless --save_full_snapshots. The .pth alone
rebuilds the networks. A .pth written before the config was stored holds 'options' instead (some of
the config's fields): the rest come from its run's opt.json, else from OLD_CHECKPOINTS.

checkpoints/<name>/opt.json holds every option of the run, for --load_from_opt_file and the location
of the run's data: written (durably) and read here only, `write_opt_json` and `read_opt_json`.

`TrainedRun` opens a run once (the .pth memory-mapped, opt.json) and says what it fixed (`config`,
and as options `fixed`): the defaults of test.py, evaluate.py, generate.py, serve.py and the
Synthesizer. One conflict rule for all of them: a value given on a command line wins over what the
run fixed, except one that would not fit the networks, which is refused with the file named
(`check_fits`).
"""
import json
import os

import util.checkpoint as durable
from models import unwrap
from models.config import FORMAT_VERSION, ModelConfig
from util.errors import UserError

# What a .pth written before the config was stored was trained with where neither it nor its opt.json
# says: a setting's only value before it was an option or stored (not today's default, which may change).
OLD_CHECKPOINTS = {'norm_E': 'spectralinstance', 'lbp_variant': 'classic', 'nhidden_lbp': None,
                   'lbp_grad_colour': 'luminance',
                   'dataset_mode': 'custom'}  # (no dataset named: its labels read as plain class ids)
# Where the run's data was (opt.json's): the tools read the same data unless told otherwise.
LOCATION_OPTIONS = ('dataroot', 'label_dir', 'image_dir', 'instance_dir')


def path_of(opt, which):
    return os.path.join(opt.checkpoints_dir, opt.name, f'{which}.pth')


class TrainedRun:
    """checkpoints/<name>: its <which_epoch>.pth (None when there is none yet; memory-mapped unless a
    resume is to own its tensors) and its opt.json ({} without one), each opened once. config: the
    run's ModelConfig (None without a .pth); recorded: the config's fields the .pth itself records
    (all of them, or an older file's few), which check_fits holds a command line to."""

    def __init__(self, folder, which_epoch='latest', mmap=True):
        self.folder = os.path.normpath(str(folder))
        self.name = os.path.basename(self.folder)
        self.path = os.path.join(self.folder, f'{which_epoch}.pth')
        self.opt_file, self.trained = read_opt_json(self.folder)
        self.state = durable.read(self.path, mmap=mmap) if os.path.isfile(self.path) else None
        self.recorded, self.config = self.read_config() if self.state is not None else ({}, None)

    def read_config(self):
        """-> (recorded, config) of the .pth."""
        if 'config' in self.state:
            config = ModelConfig.from_dict(self.state['config'], self.path)
            return config.to_dict(), config
        names = ModelConfig.names()
        recorded = {k: v for k, v in self.state.get('options', {}).items() if k in names}
        from_json = {k: v for k, v in self.trained.items() if k in names}
        values = {'format_version': FORMAT_VERSION, **OLD_CHECKPOINTS, **from_json, **recorded}
        return recorded, ModelConfig.from_dict(values, self.path)

    def fixed(self):
        """The options this run fixed, as a command line's defaults: its config's (opt.json's without a
        .pth) and, from opt.json, where its data was."""
        names = ModelConfig.names()
        source = self.config.to_dict() if self.config else self.trained
        found = {k: v for k, v in source.items() if k in names}
        found.update({k: self.trained[k] for k in LOCATION_OPTIONS if self.trained.get(k)})
        return found

    def load_into(self, model):
        """The .pth's networks into model (built from a config that fits them) -> model in eval mode."""
        return load_networks(model, self)

    def require_state(self):
        if self.state is None:
            raise UserError(f"no checkpoint at {self.path}: train first (python train.py --name {self.name}) or "
                            f"check --name, --checkpoints_dir and --which_epoch")
        return self.state


def opt_json_path(folder):
    return os.path.join(folder, 'opt.json')


def read_opt_json(folder):
    """(path, options) of <folder>/opt.json, which train.py writes, or (None, {}) without one."""
    path = opt_json_path(folder)
    if not os.path.isfile(path):
        return None, {}
    try:
        with open(path) as f:
            return path, json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: cannot be read ({type(e).__name__}); move the file away (and pass the options "
                        f"it held), or train again") from None


def write_opt_json(folder, options):
    """options (a dict of every option of a run) as <folder>/opt.json, durably: a run killed while
    writing it leaves the previous file whole."""
    durable.save_json(opt_json_path(folder), options)


def check_fits(run, config, train):
    """The conflict rule's refusal: a field of config that run's .pth records otherwise (those that
    shape the generator's networks; with train, D's and the training's too)."""
    roles = ('generator', 'training') if train else ('generator',)
    diff = [f"--{k} {run.recorded[k]} (now {getattr(config, k)})" for k in ModelConfig.names(*roles)
            if k in run.recorded and run.recorded[k] != getattr(config, k)]
    if diff:
        fix = "pass the same values or --load_from_opt_file" if train else \
            "leave these options out (the checkpoint sets them) or pass the same values"
        raise UserError(f"{run.path}: trained with {', '.join(diff)}; {fix}")


def load_networks(model, run):
    """run's networks into model, for inference: -> model in eval mode."""
    state = run.require_state()
    check_fits(run, model.config, train=False)
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


def save_training(path, model, trainer, epoch, epoch_iter, full=True):
    """full: everything --continue_train needs (resuming at (epoch, epoch_iter) replays the same
    batches). Not full (an epoch snapshot): the networks, config, epoch and iteration that test.py
    needs, without the optimizers' state (2/3 of a full file with Adam) and the RNG states."""
    state = {'networks': {k: unwrap(n).state_dict() for k, n in model.networks().items()},
             'config': model.config.to_dict(), 'epoch': epoch, 'epoch_iter': epoch_iter,
             'iteration': trainer.iteration}
    if full:
        state.update(trainer=trainer.state_dict(), rng=durable.rng_state())
    durable.save(path, state)


def resume(model, trainer, opt):
    """Load opt.which_epoch into the model, trainer and RNGs -> (epoch, epoch_iter) to go on from."""
    run = TrainedRun(os.path.join(opt.checkpoints_dir, opt.name), opt.which_epoch, mmap=False)
    state = run.require_state()
    check_fits(run, model.config, train=True)
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
