"""A release's README.md: a model card in Hugging Face's convention (YAML front matter: license, tags,
datasets), written from what the run recorded and nothing else: its config, opt.json, loss_log.txt,
an experiment's experiment_done.json, eval_log.csv and a metrics.json evaluate.py wrote. What was
not recorded is said to be unknown, never guessed. Its SHA_LINE (models/release.py) is what the
loader checks model.safetensors against.
"""
import csv
import json
import os
import re
import shlex

import data
from data import palettes
from data.transforms import image_size
from models.config import FORMAT_VERSION
from models.release import RELEASE_FORMAT_VERSION, SHA_LINE
from options.train_options import TrainOptions
from util.errors import UserError

def licence_of(dataset_mode):
    """The dataset class's LICENCE (data/<mode>_dataset.py); the base class's for a mode this checkout lacks."""
    try:
        return data.dataset_class(dataset_mode).LICENCE
    except UserError:
        from data.base_dataset import BaseDataset
        return BaseDataset.LICENCE


NETWORKS = {'G': 'G_I (the image generator)', 'GL': 'G_L (the LBP-map generator)', 'E': 'E (the style encoder)'}
SCORES = ('texture_js', 'texture_js_riu2', 'miou', 'accuracy', 'fid', 'kid', 'fid_seg', 'kid_seg', 'c2st',
          'c2st_grey', 'colour_js', 'gradient_js', 'lbp_distance')


def read_json(path):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def last_row(path):
    """The last row of a CSV file (its non-empty cells), or None."""
    try:
        with open(path, newline='') as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    return {k: v for k, v in rows[-1].items() if v not in ('', None)} if rows else None


def log_lines(folder, prefix):
    try:
        with open(os.path.join(folder, 'loss_log.txt'), encoding='utf-8', errors='replace') as f:
            return [line.strip() for line in f if line.startswith(prefix)]
    except OSError:
        return []


def train_command(trained):
    """The train.py command that gives a run's options (trained: option -> value): its name, dataset mode and
    the options that differ from train.py's defaults for that mode and netG. Choices train.py made for the machine
    (--amp auto's) are written out; the device (--gpu_ids) is left out."""
    options = TrainOptions()
    base = vars(options.parse(['--dataset_mode', trained.get('dataset_mode', 'demo'),
                               '--netG', trained.get('netG', 'ulbp')]))
    args = []
    for key in dict.fromkeys(['name', 'dataset_mode', *sorted(trained)]):
        value = trained.get(key)
        same = value == base.get(key) and key not in ('name', 'dataset_mode')
        if key not in base or key == 'gpu_ids' or value is None or same:
            continue
        if isinstance(value, bool):
            args += [f'--{key}'] if value else []
        else:
            args += [f'--{key}', shlex.quote(str(value))]
    return 'python train.py ' + ' '.join(args)


def epochs(state):
    """How far the epochs went: a run stopped at --max_iters mid-epoch is saved with the epoch it was in."""
    epoch, into = state.get('epoch', 1), state.get('epoch_iter', 0)
    return f"{epoch - 1} epochs complete" + (f" and {into} iterations into epoch {epoch}" if into else '')


def training_section(run):
    folder, trained, state = run.folder, run.trained, run.state
    done = read_json(os.path.join(folder, 'experiment_done.json')) or {}
    if done.get('command'):
        command = f"`python {' '.join(shlex.quote(str(a)) for a in done['command'])}` (experiment_done.json)"
    elif trained:
        # The checkpoint's config over opt.json: an older opt.json lacks the options added since.
        model = {k: v for k, v in run.config.to_dict().items() if k != 'format_version'}
        command = (f"`{train_command({**trained, **model})}` (from opt.json and the checkpoint's config: the options "
                   f"that differ from the defaults)")
    else:
        command = 'not recorded (no opt.json)'
    iteration, batch = state.get('iteration'), trained.get('batchSize')
    seen = f" of batch {batch} ({iteration * batch} images)" if iteration and batch else ''
    lines = [f"- command: {command}",
             f"- iterations: {iteration if iteration is not None else 'not recorded'}{seen}, "
             f"{epochs(state)}; weights: {os.path.basename(run.path)}"]
    if done.get('seconds'):
        lines.append(f"- training time: {done['seconds'] / 60:.1f} min (experiment_done.json)")
    else:
        started = log_lines(folder, '================ training (')
        when = f"; started {started[-1].split('(', 1)[1].split(')')[0]} (loss_log.txt)" if started else ''
        lines.append(f"- training time: not recorded{when}")
    machines = log_lines(folder, 'machine: ')
    lines.append(f"- machine: {machines[-1][len('machine: '):] if machines else 'not recorded'}")
    if trained.get('amp'):
        lines.append(f"- trained with --amp {trained['amp']} (autocast), seed {trained.get('seed', 'not recorded')}")
    return lines


def number(value):
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def scores_section(run, results_dir, which):
    """The run's recorded scores with their protocol: eval_log.csv's last row, and every metrics.json of
    results_dir/<name>/<phase>_<which>/."""
    lines = []
    row = last_row(os.path.join(run.folder, 'eval_log.csv'))
    if row:
        refs = read_json(os.path.join(run.folder, 'eval_references.json')) or {}
        shown = ', '.join(f"{k} {number(row[k])}" for k in SCORES if k in row)
        lines += [f"- during training, iteration {row.get('iteration')} (eval_log.csv's last row): {shown}",
                  f"  - protocol: the first {refs.get('num_images', '--eval_num')} val scenes, synthesized in eval "
                  f"mode and rounded to 8 bits as test.py saves them (evaluation/during_training.py); texture_js in "
                  f"bits, 0 = the real images' texture statistics; mIoU, accuracy and fid_seg from the small "
                  f"segmenter --eval_seg_weights: fid_seg is not comparable with published FIDs"]
        texture = refs.get('texture', {})
        if 'texture_free' in texture and 'real_vs_real' in texture:
            lines.append(f"  - scale: texture_js of texture-free images {number(texture['texture_free']['texture_js'])}"
                         f", of real vs real {number(texture['real_vs_real']['texture_js'])}")
    base = os.path.join(results_dir, run.name)
    for phase in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        metrics = read_json(os.path.join(base, phase, 'metrics.json'))
        if not phase.endswith(f'_{which}') or not metrics:
            continue
        shown = ', '.join(f"{k} {number(metrics[k])}" for k in SCORES if metrics.get(k) is not None)
        lines += [f"- {phase} ({metrics.get('num_images')} images, evaluate.py's metrics.json): {shown}",
                  f"  - {metrics.get('protocol_line', 'protocol: not recorded')}"]
    return lines or [f"No scores were recorded for this run (no eval_log.csv in its folder, no metrics.json "
                     f"under {base}/*_{which}/)."]


def front_matter(config):
    licence, name, dataset, _ = licence_of(config.dataset_mode)
    lines = ['---', f'license: {licence}']
    if name:
        lines.append(f'license_name: {name}')
    lines += ['library_name: pytorch', 'pipeline_tag: image-to-image', 'tags:']
    lines += [f'- {t}' for t in ('semantic-image-synthesis', 'gan', 'ulbpgan', 'spade', 'local-binary-patterns')]
    if dataset:
        lines += ['datasets:', f'- {dataset}']
    return lines + ['---']


def model_card(run, model, sha, size, results_dir, half_note=None):
    """The card's text for run (a TrainedRun) exported from model, whose weights have sha256 sha."""
    c = model.config
    name = re.sub(r'[^\w.-]', '_', run.name)
    palette = palettes.official(c) or palettes.labels(c)
    h, w = image_size(c.crop_size, c.aspect_ratio)
    counts = ', '.join(f"{NETWORKS.get(k, k)} {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M"
                       for k, net in model.networks().items())
    dontcare = f", {c.label_nc} = don't care" if c.contain_dontcare_label else ''
    dtype = 'float16' if half_note else 'float32'
    kind, how = {'ulbp': ('ULBPGAN', "G_I with MFADE normalisation, fed by the LBP map of G_L"),
                 'spade': ('SPADE', 'the SPADE baseline: no G_L'),
                 'pix2pixhd': ('pix2pixHD', "pix2pixHD's generator")}[c.netG]
    style = ' and a style encoder (--use_vae: a photo or a seed sets the style)' if c.use_vae else ''
    lines = front_matter(c) + [
        '', f'# {name}: {kind}, {c.dataset_mode}, {w}x{h}', '',
        f"A semantic image synthesis model of the ULBPGAN repository ({how}): it turns a label map of "
        f"{c.label_nc} classes ({palette.title}; ids 0-{c.label_nc - 1}{dontcare}) at {w}x{h} into an image"
        f"{' and the LBP texture map G_L predicted' if c.uses_lbp else ''}{style}. The release holds the generator "
        f"side only: {counts} parameters; no discriminators, no optimizer state. config.json holds the whole "
        f"model config (format {FORMAT_VERSION}; release format {RELEASE_FORMAT_VERSION}) and the classes with "
        f"their colours.",
        '', '## Dataset and licence', '', 'Trained on ' + licence_of(c.dataset_mode)[3],
        '', '## Training', '', *training_section(run),
        '', '## Scores', '', *scores_section(run, results_dir, os.path.splitext(os.path.basename(run.path))[0]),
        '', '## Files', '',
        f"- model.safetensors: {size / 1e6:.1f} MB, {dtype}" + (f"; {half_note}" if half_note else ''),
        f"- {SHA_LINE.format(sha)}", '',
        "generate.py, serve.py and the Synthesizer check model.safetensors against this sha256 on load "
        "(--no_verify / verify=False to skip).", '', '## Use', '',
        f"In a checkout of ULBPGAN (`pip install -r requirements.txt`), with this folder as `{name}`:", '',
        '```bash', f'python generate.py --model {name} --labels my_labels/ --out pictures  # ids or colours',
        '```', '', '```python',
        f"synth = Synthesizer('{name}')  # from inference import Synthesizer; image, lbp = synth(synth.read_labels"
        f"('label.png'), seed=0)",
        f"synth = torch.hub.load('path/to/ULBPGAN', 'synthesizer', path='{name}', source='local')  # the same",
        '```', '', f'`python serve.py --model {name}` paints label maps in the browser.', '']
    return '\n'.join(lines)
