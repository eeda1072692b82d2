"""Options for test.py: `resolve` takes the checkpoint's stored options as defaults (saved_defaults)."""
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

    def saved_defaults(self, opt):
        """The options checkpoints/<name>/<which_epoch>.pth was trained with (util.checkpoint.
        stored_options), so that `--name` is enough: a value given on the command line wins, and
        util.checkpoint.load refuses one that does not fit the networks. opt.json's over them
        with --load_from_opt_file."""
        return {**ckpt.stored_options(ckpt.path_of(opt, opt.which_epoch), opt), **super().saved_defaults(opt)}
