"""ModelConfig: everything that builds a model's networks, as one typed record.

Built once from the options (`ModelConfig.from_options`), stored whole in every checkpoint as a
plain dict of builtins (`to_dict`: torch.load(weights_only=True) and json both read it) and turned
into networks by models/networks/__init__.py with no option parsing. The defaults of these settings
live here only: the command line's options take theirs from DEFAULTS.

Each field has the option's name (--ngf is `ngf`). A field's role says when a checkpoint must match
it: 'generator' fields shape G_I, G_L or E (a checkpoint loads only into the same values), 'training'
fields shape D or say how G was trained (compared when a run resumes); the rest (the initialisation,
the dataset mode) are recorded, never compared.
"""
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Optional

from util.errors import UserError
from util.lbp import DEFAULT_GRAD_WIDTH

# The layout of to_dict(); a reader refuses a newer one rather than guess at its fields.
FORMAT_VERSION = 1
# --norm_G's default follows --netG (SPADE's: pix2pixHD's generator has plain instance norm).
NORM_G = {'ulbp': 'spectralmfadesyncbatch3x3', 'spade': 'spectralspadesyncbatch3x3', 'pix2pixhd': 'instance'}


def generator(default):
    return field(default=default, metadata={'role': 'generator'})


def training(default):
    return field(default=default, metadata={'role': 'training'})


@dataclass(frozen=True)
class ModelConfig:
    # the label map: its classes, how its files read (data/<dataset_mode>_dataset.py), instance edges
    dataset_mode: str = 'demo'
    label_nc: int = generator(182)
    contain_dontcare_label: bool = generator(False)
    no_instance: bool = generator(False)
    # the image: width crop_size, height crop_size / aspect_ratio
    crop_size: int = generator(512)
    aspect_ratio: float = generator(1.0)
    # G_I
    netG: str = generator('ulbp')
    norm_G: str = generator(NORM_G['ulbp'])
    ngf: int = generator(64)
    num_upsampling_layers: str = generator('normal')
    nhidden: int = generator(128)
    nhidden_lbp: Optional[int] = generator(None)  # None: nhidden
    # G_L and the LBP operator
    ngf_lbp: Optional[int] = generator(None)  # None: ngf
    lbp_variant: str = generator('classic')
    # the style encoder E (--use_vae)
    use_vae: bool = generator(False)
    z_dim: int = generator(256)
    norm_E: str = generator('spectralinstance')
    # D_I and D_L, and the surrogate gradient LBP(I) passes to G_I
    ndf: int = training(64)
    norm_D: str = training('spectralinstance')
    num_D: int = training(2)
    n_layers_D: int = training(4)
    no_lbp_D: bool = training(False)
    no_lbp_image_fake: bool = training(False)
    lbp_grad_width: float = training(DEFAULT_GRAD_WIDTH)
    lbp_grad_colour: str = training('grey')
    # the initial weights (a loaded checkpoint replaces them)
    init_type: str = 'xavier'
    init_variance: float = 0.02

    @property
    def label_values(self):
        """How many ids a label map holds: the classes, and don't care when there is one."""
        return self.label_nc + int(self.contain_dontcare_label)

    @property
    def semantic_nc(self):
        """The label map's channels as the networks see it: one per id, plus the instance edges."""
        return self.label_values + int(not self.no_instance)

    @property
    def uses_lbp(self):
        """Whether the model has G_L and an LBP map (ULBPGAN and its ablations; not the baselines)."""
        return self.netG == 'ulbp'

    @classmethod
    def names(cls, *roles):
        """The fields of the given roles ('generator', 'training', None), or all of them."""
        return tuple(f.name for f in fields(cls) if not roles or f.metadata.get('role') in roles)

    @classmethod
    def from_options(cls, opt, base=None):
        """The config of parsed options: each field from its option; one that this command line has
        no option for (D's at test time) from base (a run's config), else the default."""
        return replace(base or cls(), **{k: getattr(opt, k) for k in cls.names() if hasattr(opt, k)})

    def to_dict(self):
        """Builtins only (str, int, float, bool, None), with the format's version."""
        return {'format_version': FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, values, source):
        """to_dict()'s output back, checked; source (a file) names where it came from in an error. A
        missing field takes its default; anything not written by this code is one UserError."""
        if not isinstance(values, dict) or not isinstance(values.get('format_version'), int):
            raise UserError(f"{source}: holds no ULBPGAN model config (no format_version); use a checkpoint "
                            f"written by train.py")
        if values['format_version'] > FORMAT_VERSION:
            raise UserError(f"{source}: its model config has format version {values['format_version']}, newer than "
                            f"this code reads ({FORMAT_VERSION}); update ULBPGAN to load it")
        values = {k: v for k, v in values.items() if k != 'format_version'}
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise UserError(f"{source}: its model config has fields this code does not know ({', '.join(unknown)}); "
                            f"it was written by other code: update ULBPGAN or use a checkpoint train.py wrote")
        return cls(**{k: checked(k, v, source) for k, v in values.items()})


TYPES = typing.get_type_hints(ModelConfig)


def checked(name, value, source):
    """value as field name's type (an int is a float too); anything else names the field and the file."""
    allowed = typing.get_args(TYPES[name]) or (TYPES[name],)
    if TYPES[name] is float and type(value) is int:
        return float(value)
    if type(value) not in allowed:  # (type, not isinstance: True is no int)
        wanted = ' or '.join('null' if t is type(None) else t.__name__ for t in allowed)
        raise UserError(f"{source}: model config field {name} is {value!r}, not {wanted}; use a checkpoint "
                        f"train.py wrote")
    return value


DEFAULTS = ModelConfig()
