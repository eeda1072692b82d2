"""Training logs: loss_log.txt, TensorBoard (checkpoints/<name>/logs) and web/index.html snapshots.

Only rank 0 makes a Visualizer; the other ranks log nothing.
"""
import os
import time

import numpy as np

from util import machine
from util.html import HTML
from util.images import save_png


class Visualizer:
    def __init__(self, opt):
        self.opt = opt
        self.dir = os.path.join(opt.checkpoints_dir, opt.name)
        self.log_path = os.path.join(self.dir, 'loss_log.txt')
        self.snapshots = []  # (epoch, iteration, {title: relative link}) for the html page
        self.writer = None
        if not opt.no_tf_log:
            from torch.utils.tensorboard import SummaryWriter
            self.writer = SummaryWriter(os.path.join(self.dir, 'logs'))
        with open(self.log_path, 'a') as f:
            f.write(f"================ training ({time.strftime('%c')}) ================\n")
            f.write(f"machine: {machine.summary()}\n")

    def print_losses(self, epoch, iteration, losses, images_per_s, run=None):
        """run: the whole run's progress, e.g. '120/1000, ETA 12:34' (util/progress.py)."""
        run = f", run: {run}" if run else ''
        line = f"(epoch: {epoch}, iters: {iteration}, img/s: {images_per_s:.2f}{run}) " + \
            ' '.join(f"{k}: {v:.3f}" for k, v in losses.items())
        with open(self.log_path, 'a') as f:
            f.write(line + '\n')
        if self.writer:
            for k, v in losses.items():
                self.writer.add_scalar(f'loss/{k}', v, iteration)

    def log_rates(self, iteration, lr_g, lr_d):
        if self.writer:
            self.writer.add_scalar('lr/G', lr_g, iteration)
            self.writer.add_scalar('lr/D', lr_d, iteration)

    def display(self, visuals, epoch, iteration):
        if self.writer:
            for title, picture in visuals.items():
                self.writer.add_image(title, picture, iteration, dataformats='HWC' if picture.ndim == 3 else 'HW')
            self.writer.flush()
        if self.opt.no_html:
            return
        web = os.path.join(self.dir, 'web')
        links = {}
        os.makedirs(os.path.join(web, 'images'), exist_ok=True)
        for title, picture in visuals.items():
            links[title] = f'images/epoch{epoch:03d}_iter{iteration:08d}_{title}.png'
            save_png(np.ascontiguousarray(picture), os.path.join(web, links[title]))
        self.snapshots.append((epoch, iteration, links))
        page = HTML(web, f'Experiment = {self.opt.name}', refresh=60)
        for ep, it, lk in reversed(self.snapshots):
            page.add_header(f'epoch {ep}, iteration {it}')
            page.add_images(list(lk.values()), list(lk.keys()), width=self.opt.display_winsize)
        page.save()

    def close(self):
        if self.writer:
            self.writer.close()
