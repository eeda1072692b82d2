"""Options for test.py."""
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
