"""Train ULBPGAN (or a baseline): `python train.py [options]`; with no options, on the demo data.

    python train.py --name city --dataset_mode cityscapes --dataroot datasets/cityscapes
    torchrun --nproc_per_node 8 train.py ...                 # multi-GPU (see README)
Writes checkpoints/<name>/: latest.pth and <epoch>.pth, opt.txt/opt.json, loss_log.txt,
logs/ (TensorBoard) and web/index.html.
"""
import random
import signal
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

import data
import util.checkpoint as ckpt
import util.distributed as distributed
from models import create_model
from options.train_options import TrainOptions
from trainers.pix2pix_trainer import Pix2PixTrainer
from util.errors import exit_on_user_error
from util.images import visuals
from util.visualizer import Visualizer


class StopRequest:
    """SIGINT / SIGTERM set a flag; the loop saves `latest` at the end of the iteration and exits."""

    def __init__(self):
        self.requested = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle)

    def handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save(model, trainer, opt, which, epoch, epoch_iter):
    state = {'networks': {k: distributed.unwrap(n).state_dict() for k, n in model.networks().items()},
             'trainer': trainer.state_dict(), 'epoch': epoch, 'epoch_iter': epoch_iter,
             'rng': ckpt.rng_state(), 'options': ckpt.arch_options(opt)}
    ckpt.save(ckpt.path_of(opt, which), state)


def resume(model, trainer, opt):
    state = ckpt.load(ckpt.path_of(opt, opt.which_epoch), opt, train=True)
    for k, net in model.networks().items():
        distributed.unwrap(net).load_state_dict(state['networks'][k])
    trainer.load_state_dict(state['trainer'])
    ckpt.set_rng_state(state['rng'])
    return state['epoch'], state['epoch_iter']


def main(args=None):
    rank0 = distributed.rank() == 0
    opt = TrainOptions().parse(args, save=rank0)
    distributed.init(opt.device)
    seed_everything(opt.seed + distributed.rank())
    loader = data.create_dataloader(opt)
    model = create_model(opt).to(opt.device)
    trainer = Pix2PixTrainer(opt, model)
    epoch, skip = resume(model, trainer, opt) if opt.continue_train else (1, 0)
    distributed.wrap_networks(model, opt)
    visualizer = Visualizer(opt) if rank0 else None
    stop = StopRequest()
    last_epoch = opt.niter + opt.niter_decay
    images_per_iter = opt.batchSize * distributed.world_size()
    while epoch <= last_epoch:
        trainer.update_learning_rate(epoch)
        loader.sampler.set_epoch(epoch, skip * opt.batchSize)
        bar = tqdm(loader, desc=f'epoch {epoch}/{last_epoch}', disable=not rank0, dynamic_ncols=True)
        tick = time.time()
        for epoch_iter, batch in enumerate(bar, start=skip + 1):
            trainer.train_one_iteration(batch)
            it = trainer.iteration
            speed = images_per_iter / (time.time() - tick)
            tick = time.time()
            if rank0:
                log(visualizer, trainer, opt, bar, epoch, it, speed, batch)
                if it % opt.save_latest_freq == 0:
                    save(model, trainer, opt, 'latest', epoch, epoch_iter)
            done = opt.max_iters is not None and it >= opt.max_iters
            if distributed.any_rank(stop.requested or done, opt.device):
                if rank0:
                    save(model, trainer, opt, 'latest', epoch, epoch_iter)
                    why = 'stopped by signal' if stop.requested else f'--max_iters {opt.max_iters} reached'
                    print(f"{why}: saved {ckpt.path_of(opt, 'latest')} at iteration {it}")
                return finish(visualizer)
        skip = 0
        epoch += 1
        if rank0:
            save(model, trainer, opt, 'latest', epoch, 0)
            if (epoch - 1) % opt.save_epoch_freq == 0 or epoch > last_epoch:
                save(model, trainer, opt, str(epoch - 1), epoch, 0)
    if rank0:
        print(f"training done: {ckpt.path_of(opt, 'latest')}")
    return finish(visualizer)


def log(visualizer, trainer, opt, bar, epoch, it, speed, batch):
    if it % opt.print_freq == 0 or it == 1:
        losses = trainer.latest_losses()
        bar.set_postfix({**{k: f'{v:.2f}' for k, v in losses.items()}, 'img/s': f'{speed:.1f}'}, refresh=False)
        visualizer.print_losses(epoch, it, losses, speed)
    if it % opt.display_freq == 0 or it == 1:
        visualizer.display(visuals(batch, trainer.generated, opt.label_nc), epoch, it)


def finish(visualizer):
    if visualizer:
        visualizer.close()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == '__main__':
    sys.exit(exit_on_user_error(main))
