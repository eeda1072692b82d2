"""One training iteration of Pix2PixModel: a G step, then --D_steps_per_G D steps.

Owns the optimizers (SPADE's TTUR: Adam(--beta1 0, --beta2 0.9), G at lr/2 and D at lr*2), mixed
precision (--amp) and the learning-rate schedule (linear decay over --niter_decay).
"""
import math

import torch

import util.amp as amp
from util.errors import UserError


class NonFiniteLoss(UserError):
    """A loss became nan/inf; raised before any optimizer step, so no weight is corrupted."""


class Pix2PixTrainer:
    def __init__(self, opt, model):
        self.opt = opt
        self.model = model
        self.scaler = torch.amp.GradScaler(opt.device.type, enabled=opt.amp == 'fp16')
        self.lr = opt.lr
        lr_g, lr_d, betas = self.rates(opt.lr)
        # fused: one kernel per parameter instead of ~8 elementwise passes (CPU and CUDA alike)
        self.optimizer_G = torch.optim.Adam(model.generator_parameters(), lr=lr_g, betas=betas, fused=True)
        self.optimizer_D = torch.optim.Adam(model.discriminator_parameters(), lr=lr_d, betas=betas, fused=True)
        self.iteration = 0
        self.g_losses, self.d_losses, self.generated = {}, {}, None

    def rates(self, lr):
        """(G's rate, D's rate, Adam's betas) for the base rate lr: TTUR's G at lr/2 and D at lr*2 unless
        --no_TTUR; --beta1/--beta2 under either, as SPADE."""
        betas = (self.opt.beta1, self.opt.beta2)
        return (lr, lr, betas) if self.opt.no_TTUR else (lr / 2, lr * 2, betas)

    def autocast(self):
        return amp.autocast(self.opt)

    def step(self, optimizer, losses):
        check_finite(losses, self.iteration)
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(sum(losses.values())).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def run_generator_one_step(self, data):
        with self.autocast():
            losses, generated = self.model.generator_losses(data)
        self.step(self.optimizer_G, losses)
        self.g_losses, self.generated = losses, generated

    def run_discriminator_one_step(self, data):
        with self.autocast():
            losses = self.model.discriminator_losses(data)
        self.step(self.optimizer_D, losses)
        self.d_losses = losses

    def train_one_iteration(self, data):
        self.iteration += 1
        self.run_generator_one_step(data)
        for _ in range(self.opt.D_steps_per_G):
            self.run_discriminator_one_step(data)

    def latest_losses(self):
        return {k: v.item() for k, v in {**self.g_losses, **self.d_losses}.items()}

    def update_learning_rate(self, epoch):
        """The rate epoch `epoch` (1-based) trains at, as SPADE's schedule: constant through epoch
        niter + 1, then lower by lr/niter_decay each epoch, so the last (niter + niter_decay) trains
        at lr/niter_decay. (SPADE lowers the rate at the end of each epoch past niter.)"""
        opt = self.opt
        decay = max(0, epoch - opt.niter - 1) / opt.niter_decay if opt.niter_decay else 0.0
        self.lr = opt.lr * (1 - min(decay, 1.0))
        lr_g, lr_d, _ = self.rates(self.lr)
        for group in self.optimizer_G.param_groups:
            group['lr'] = lr_g
        for group in self.optimizer_D.param_groups:
            group['lr'] = lr_d

    def learning_rates(self):
        """(G's, D's) current learning rate."""
        return self.optimizer_G.param_groups[0]['lr'], self.optimizer_D.param_groups[0]['lr']

    def state_dict(self):
        return {'optimizer_G': self.optimizer_G.state_dict(), 'optimizer_D': self.optimizer_D.state_dict(),
                'scaler': self.scaler.state_dict(), 'iteration': self.iteration, 'lr': self.lr}

    def load_state_dict(self, state):
        self.optimizer_G.load_state_dict(state['optimizer_G'])
        self.optimizer_D.load_state_dict(state['optimizer_D'])
        self.scaler.load_state_dict(state['scaler'])
        self.iteration, self.lr = state['iteration'], state['lr']


def check_finite(losses, iteration):
    total = sum(losses.values())
    if not torch.isfinite(total):  # one sync per step; the per-term search runs only on failure
        bad = next(k for k, v in losses.items() if not math.isfinite(v.item()))
        raise NonFiniteLoss(f"iteration {iteration}: loss {bad} is {losses[bad].item()}; stopped before the "
                            f"optimizer step (the last saved checkpoint is intact). Lower --lr, try --amp none, "
                            f"or check the data")
