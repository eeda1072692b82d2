"""The protocol behind a set of numbers, stored in metrics.json and printed as one line beside them:
the segmenter and its weight files' SHA-256 prefixes, the mIoU rule, the segmentation size, the
FID image count and resize, the LBP variant and the C2ST's constants. Two numbers are comparable only when their
protocols are the same.
"""
import hashlib
import os

from evaluation import c2st
from evaluation.fid import FEW_IMAGES, RESIZE
from evaluation.segmentation import RULE_MEANING

SEG_SIZES = {'native': 'the synthesized size, against the label map the model saw',
             'original': "upsampled to the dataset's label files, against those"}


def sha256_prefix(path, length=8):
    """The first hex digits of the file's SHA-256, as torch hub file names carry them (vgg19-dcbb9e9d.pth)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()[:length]


def weights_label(files):
    if not files:
        return 'random weights'
    return ', '.join(f'{os.path.basename(f)} sha256 {sha256_prefix(f)}' for f in files)


def describe(cfg, nets, num_images, c2st_scored=False):
    """The protocol as a dict for metrics.json; None for a metric that was not computed."""
    inception, segmenter, _ = nets
    protocol = {'segmenter': None, 'segmenter_weights': None, 'miou_rule': None, 'seg_size': None,
                'fid_images': None, 'fid_resize': None, 'fid_weights': None, 'lbp_variant': cfg.lbp_variant,
                'c2st': c2st.protocol() if c2st_scored else None}
    if segmenter is not None:
        protocol.update(segmenter=cfg.segmenter, segmenter_weights=weights_label(segmenter.weight_files),
                        miou_rule=cfg.miou_rule, seg_size=cfg.seg_size)
    if inception is not None:
        protocol.update(fid_images=num_images, fid_resize=RESIZE, fid_weights=weights_label(inception.weight_files))
    return protocol


def line(protocol):
    """The protocol in one line."""
    p = protocol
    seg = 'no mIoU'
    if p['segmenter']:
        seg = (f"segmenter {p['segmenter']} ({p['segmenter_weights']}); mIoU rule {p['miou_rule']}: "
               f"{RULE_MEANING[p['miou_rule']]}; seg size {p['seg_size']}: {SEG_SIZES[p['seg_size']]}")
    fid = 'no FID'
    if p['fid_images'] is not None:
        fid = f"FID on {p['fid_images']} images resized {p['fid_resize']} ({p['fid_weights']})"
        if p['fid_images'] < FEW_IMAGES:
            fid += f", fewer than {FEW_IMAGES}: biased upwards, not comparable to published FIDs"
    test = 'no C2ST'
    if p.get('c2st'):  # absent from metrics.json files written before it was stored
        c = p['c2st']
        test = (f"C2ST: held-out accuracy of a CNN (width {c['width']}) telling {c['patch']}×{c['patch']} patches of "
                f"the real photos from the synthesized ones (0.5: alike), {c['steps'][-1]} steps, mean of "
                f"{c['seeds']} seeds, scenes held out in blocks of {c['block']}"
                + (f", {c['threads']} torch threads" if 'threads' in c else ''))
    return f"protocol: {seg}; {fid}; LBP {p['lbp_variant']}; {test}"
