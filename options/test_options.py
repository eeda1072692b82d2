"""Options for test.py: `resolve` takes what the trained run fixed as defaults (saved_defaults)."""
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
        """What checkpoints/<name> fixed (models/checkpoint.py's TrainedRun.fixed: the networks' options,
        the dataset mode, where the data was), so that `--name` is enough: a value given on the command
        line wins, and load_networks refuses one that does not fit the networks. opt.json's over them
        with --load_from_opt_file."""
        run = self.open_run(opt)
        return {**run.fixed(), **(self.load_saved(run) if opt.load_from_opt_file else {})}
