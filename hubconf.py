"""torch.hub's entry: a release folder (export.py's) or a run's folder as a Synthesizer.

    synth = torch.hub.load('path/to/ULBPGAN', 'synthesizer', path='release/camvid', source='local')
    image, lbp = synth(synth.read_labels('label.png'), seed=0)
"""
import torch

dependencies = ['torch', 'numpy', 'PIL', 'safetensors']


def synthesizer(path, device=None, dtype=torch.float32, verify=True, batch_size=1):
    """inference/synthesizer.py's Synthesizer of path; device None: CUDA if there, else the CPU."""
    from inference import Synthesizer  # here: torch.hub lists the entries without loading the project
    return Synthesizer(path, device=device, dtype=dtype, verify=verify, batch_size=batch_size)
