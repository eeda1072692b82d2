"""Inference as an application: a trained run turned into a function (`Synthesizer`), built from what
the run fixed alone. generate.py and serve.py are its command line and its page."""
from inference.synthesizer import Result, Synthesizer, style_seed  # noqa: F401 (the package's API)
