"""Options for test.py: the checkpoint's stored options are the defaults (see stored_defaults)."""
import util.checkpoint as ckpt

from .base_options import BaseOptions


class TestOptions(BaseOptions):
    is_train = False

    def initialize(self, parser):
        super().initialize(parser)
        parser.add_argument('--results_dir', type=str, default='./results')
        parser.add_argument('--which_epoch', type=str, default='latest', help='checkpoint to load')
        parser.add_argument('--how_many', type=int, default=float('inf'), help='images to synthesize')
        parser.set_defaults(phase='val', serial_batches=True, no_flip=True, preprocess_mode='scale_width_and_crop')
        return parser

    def stored_defaults(self, opt):
        """The options the checkpoint was trained with (util.checkpoint.stored_options), so that
        `--name` is enough; a value given on the command line wins, and util.checkpoint.load
        refuses one that does not fit the networks."""
        return ckpt.stored_options(ckpt.path_of(opt, opt.which_epoch), opt)
