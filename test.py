"""Synthesize the val split with a trained model: `python test.py [--name N --which_epoch E]`.

The run supplies what it fixed (its checkpoint's config: architecture, label classes, crop size,
dataset mode; and opt.json's dataroot when there is one); the command line gives the run
(--which_epoch, --phase ...) and wins where it says more.

Writes results/<name>/<phase>_<epoch>/index.html and images/<kind>/<stem>.png for kind in
input_label (colourised: data/palettes.py's drawing_colors), synthesized_image, synthesized_lbp,
real_image, real_lbp and label_ids (the label map the model saw, as a PNG of ids: what evaluate.py
scores against).
"""
import sys

import torch
from tqdm import tqdm

import data
import util.amp as amp
from data import palettes
from evaluation import results
from models import prepare
from models.checkpoint import load_networks
from models.config import ModelConfig
from models.pix2pix_model import Pix2PixModel
from options.test_options import TestOptions
from util import machine
from util.allocator import keep_freed_memory
from util.errors import exit_on_user_error
from util.html import HTML
from util.images import visuals


def main(args=None):
    options = TestOptions()
    opt = options.resolve(options.parse(args))  # what the run fixed are the defaults
    keep_freed_memory(opt.device)
    machine.seed_everything(opt.seed)
    run = options.run
    run.require_state()  # a clear error before anything is built
    config = ModelConfig.from_options(opt, run.config)  # the run's, with what the command line gives
    model = load_networks(Pix2PixModel.from_options(opt, config).to(opt.device), run)
    prepare(model, opt)  # --channels_last, --compile
    precision = amp.autocast(opt)  # --amp: the networks run in bf16/fp16 where autocast allows
    loader = data.create_dataloader(opt)
    colors = palettes.drawing_colors(opt)
    web_dir = results.run_dir(opt.results_dir, opt.name, opt.phase, opt.which_epoch)
    page = HTML(web_dir, f'{opt.name}: {opt.phase}, epoch {opt.which_epoch}')
    done = 0
    for batch in tqdm(loader, desc='test', dynamic_ncols=True, disable=None):
        if done >= opt.how_many:
            break
        with torch.inference_mode(), precision:
            generated = model(batch, mode='inference')
        for i in range(len(batch['path'])):
            if done >= opt.how_many:
                break
            sample = {k: v[i:i + 1] if torch.is_tensor(v) and v.dim() else v for k, v in batch.items()}
            pictures = visuals(sample, {k: v[i:i + 1] if v is not None else None for k, v in generated.items()},
                               colors)
            stem = results.stem_of(batch['path'][i])
            links = results.save_sample(web_dir, stem, pictures, batch['label'][i, 0].numpy())
            page.add_header(stem)
            shown = [k for k in links if k != 'label_ids']
            page.add_images([links[k] for k in shown], shown, width=opt.display_winsize)
            done += 1
    print(f"{done} images: {page.save()}")


if __name__ == '__main__':
    sys.exit(exit_on_user_error(main))
