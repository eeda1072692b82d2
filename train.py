"""Train ULBPGAN (or a baseline): `python train.py [options]`; with no options, on the demo data.

    python train.py --name city --dataset_mode cityscapes --dataroot datasets/cityscapes
    torchrun --nproc_per_node 8 train.py ...                 # multi-GPU (see README)
Writes checkpoints/<name>/: latest.pth and <epoch>.pth, opt.txt/opt.json, loss_log.txt,
logs/ (TensorBoard) and web/index.html.
"""
import os
import signal
import sys
import time

import torch
from tqdm import tqdm

import data
import models.checkpoint as ckpt
import util.distributed as distributed
from data import palettes
from evaluation.during_training import TrainingEvaluator
from models import prepare
from models.pix2pix_model import Pix2PixModel
from options.train_options import TrainOptions
from trainers.pix2pix_trainer import Pix2PixTrainer
from util import machine
from util.allocator import keep_freed_memory
from util.checkpoint import remove_leftovers
from util.errors import DataError, exit_on_user_error
from util.images import visuals
from util.progress import RunProgress, total_iterations
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


def main(args=None):
    rank0 = distributed.rank() == 0
    options = TrainOptions()
    opt = options.resolve(options.parse(args))
    distributed.init(opt.device)
    keep_freed_memory(opt.device)
    machine.seed_everything(opt.seed + distributed.rank())
    loader = data.create_dataloader(opt)
    model = Pix2PixModel.from_options(opt).to(opt.device)
    trainer = Pix2PixTrainer(opt, model)
    if rank0:  # a save killed mid-write (kill -9, power loss) leaves <which>.pth.tmp beside the checkpoint
        for path in remove_leftovers(os.path.join(opt.checkpoints_dir, opt.name)):
            print(f"removed {path}: left behind by a save that was killed before it finished")
    epoch, skip = ckpt.resume(model, trainer, opt) if opt.continue_train else (1, 0)
    if opt.max_iters is not None and trainer.iteration >= opt.max_iters:  # only a resume can be there already
        print(f"--max_iters {opt.max_iters}: {ckpt.path_of(opt, opt.which_epoch)} is at iteration "
              f"{trainer.iteration} already; nothing to train")
        return
    if rank0:  # only now: a resume refused for mismatched options must not overwrite the run's opt.json
        options.save(opt)
    prepare(model, opt)  # --channels_last, --compile, DDP under torchrun
    training = Training(opt, model, trainer, rank0)
    try:
        training.run(loader, epoch, skip)
    finally:
        training.close()


class Training:
    """The loop over epochs and batches: logging, saving `latest`, stopping on request."""

    def __init__(self, opt, model, trainer, rank0):
        self.opt, self.model, self.trainer, self.rank0 = opt, model, trainer, rank0
        self.visualizer = Visualizer(opt) if rank0 else None
        self.stop = StopRequest()
        self.start_iteration = trainer.iteration
        self.postfix = {}  # the latest losses, shown on every epoch's progress bar
        self.label_colors = palettes.drawing_colors(opt)
        self.last_epoch = opt.niter + opt.niter_decay
        self.evaluator = None
        if opt.eval_freq and rank0:
            self.evaluator = TrainingEvaluator(opt, model)
            self.evaluator.keep_rows_until(trainer.iteration)

    def run(self, loader, epoch, skip):
        total = total_iterations(self.last_epoch, len(loader), self.opt.max_iters)
        self.progress = RunProgress(total, self.trainer.iteration)  # the whole run's done/total and time left
        while epoch <= self.last_epoch:
            if self.run_epoch(loader, epoch, skip):
                return
            skip = 0
            if self.rank0:
                self.save('latest', epoch + 1, 0)
                if epoch % self.opt.save_epoch_freq == 0 or epoch == self.last_epoch:
                    self.save(str(epoch), epoch + 1, 0)
            epoch += 1
        if self.rank0:
            print(f"training done: {ckpt.path_of(self.opt, 'latest')}")

    def run_epoch(self, loader, epoch, skip):
        """Train on the epoch's batches after the first `skip`; True when the run was told to stop."""
        opt = self.opt
        self.trainer.update_learning_rate(epoch)
        loader.sampler.set_epoch(epoch, skip * opt.batchSize)
        # No bar (disable=None) when stderr is not a terminal: logs get no \r lines, and errors stay one line.
        bar = tqdm(loader, desc=f'epoch {epoch}/{self.last_epoch}', disable=None if self.rank0 else True,
                   dynamic_ncols=True, postfix=self.postfix)
        done, tick = skip, time.time()
        try:
            for batch in self.until_stopped(bar):
                self.trainer.train_one_iteration(batch)
                done += 1
                it = self.trainer.iteration
                speed = opt.batchSize * distributed.world_size() / (time.time() - tick)
                tick = time.time()
                if self.rank0:
                    self.log(bar, epoch, it, speed, batch)
                    self.evaluate(epoch, it, last=done == len(loader) + skip and epoch == self.last_epoch)
                    if it % opt.save_latest_freq == 0:
                        self.save('latest', epoch, done)
                if self.stopped(epoch, done):
                    return True
        except DataError as e:
            raise self.saved_before(e, epoch, done) from None
        return self.stop.requested and self.stopped(epoch, done)  # the signal ended the workers first

    def until_stopped(self, batches):
        """The batches; ends early when a signal to the whole job has ended the loader's workers."""
        batches = iter(batches)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (RuntimeError, EOFError, OSError):  # 'DataLoader worker exited', or its pipe cut mid-batch
                if not self.stop.requested:
                    raise
                return
            yield batch

    def stopped(self, epoch, done):
        """On a signal or at --max_iters (on any rank): save `latest` and say why."""
        it = self.trainer.iteration
        limit = self.opt.max_iters is not None and it >= self.opt.max_iters
        if not distributed.any_rank(self.stop.requested or limit, self.opt.device):
            return False
        if self.rank0:
            self.save('latest', epoch, done)
            why = 'stopped by signal' if self.stop.requested else f'--max_iters {self.opt.max_iters} reached'
            print(f"{why}: saved {ckpt.path_of(self.opt, 'latest')} at iteration {it}")
        return True

    def saved_before(self, error, epoch, done):
        """A bad file stopped the run: keep what it trained (as a signal would) and say how to go on."""
        if self.trainer.iteration == self.start_iteration or not self.rank0:
            return error
        self.save('latest', epoch, done)
        path = ckpt.path_of(self.opt, 'latest')
        return DataError(f"{error}; saved {path} at iteration {self.trainer.iteration}: once the file is fixed, "
                         f"the same command with --continue_train resumes from there")

    def save(self, which, epoch, epoch_iter):
        # <epoch>.pth keeps what test.py needs (no optimizer state) unless --save_full_snapshots; latest all
        full = which == 'latest' or self.opt.save_full_snapshots
        ckpt.save_training(ckpt.path_of(self.opt, which), self.model, self.trainer, epoch, epoch_iter, full=full)

    def log(self, bar, epoch, it, speed, batch):
        opt = self.opt
        self.postfix.update(self.progress.fields(it))  # the whole run's progress and ETA, every iteration
        bar.set_postfix(self.postfix, refresh=False)
        self.visualizer.log_rates(it, *self.trainer.learning_rates())
        if it % opt.print_freq == 0 or it == 1:
            losses = self.trainer.latest_losses()
            self.postfix.update({**{k: f'{v:.2f}' for k, v in losses.items()}, 'img/s': f'{speed:.1f}'})
            bar.set_postfix(self.postfix, refresh=False)
            self.visualizer.print_losses(epoch, it, losses, speed, self.progress.text(it))
        if it % opt.display_freq == 0 or it == 1:
            self.visualizer.display(visuals(batch, self.trainer.generated, self.label_colors), epoch, it)

    def evaluate(self, epoch, it, last):
        """--eval_freq: score the val subset every N iterations and at the run's last one."""
        if self.evaluator is None:
            return
        at_limit = self.opt.max_iters is not None and it == self.opt.max_iters
        if it % self.opt.eval_freq == 0 or at_limit or last:
            row = self.evaluator(it, epoch, self.trainer.learning_rates(), self.visualizer.writer)
            shown = {k: f'{v:.4g}' for k, v in row.items() if k not in ('iteration', 'epoch') and v is not None}
            tqdm.write(f"eval at iteration {it}: {shown}")

    def close(self):
        if self.visualizer:
            self.visualizer.close()
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


if __name__ == '__main__':
    sys.exit(exit_on_user_error(main))
