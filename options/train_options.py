"""Options for train.py (SPADE's names and defaults)."""
from models.config import DEFAULTS
from .base_options import BaseOptions


class TrainOptions(BaseOptions):
    is_train = True

    def initialize(self, parser):
        super().initialize(parser)
        # logging and checkpoints
        parser.add_argument('--display_freq', type=int, default=100, help='iterations between image snapshots')
        parser.add_argument('--print_freq', type=int, default=100, help='iterations between loss log lines')
        parser.add_argument('--save_latest_freq', type=int, default=5000, help='iterations between latest saves')
        parser.add_argument('--save_epoch_freq', type=int, default=10, help='epochs between numbered saves')
        parser.add_argument('--save_full_snapshots', action='store_true',
                            help='numbered saves (<epoch>.pth) keep the optimizer state too, as latest.pth does '
                                 '(about 3x the size); by default they hold the networks and options test.py needs')
        parser.add_argument('--no_html', action='store_true', help='no web/index.html of snapshots')
        parser.add_argument('--no_tf_log', action='store_true', help='no TensorBoard logs (checkpoints/<name>/logs)')
        parser.add_argument('--continue_train', action='store_true', help='resume from the latest checkpoint')
        parser.add_argument('--which_epoch', type=str, default='latest', help='checkpoint to resume from')
        parser.add_argument('--max_iters', type=int, default=None, help='stop after this many iterations')
        parser.add_argument('--eval_freq', type=int, default=0,
                            help='every N iterations score --eval_num val scenes (eval_log.csv, TensorBoard eval/); '
                                 '0: never')
        parser.add_argument('--eval_num', type=int, default=100, help='val scenes scored by --eval_freq')
        parser.add_argument('--no_eval_c2st', action='store_true',
                            help='--eval_freq without the classifier two-sample test (about 1 min of a CPU core '
                                 'per evaluation of 100 scenes at 128×96)')
        parser.add_argument('--eval_keep_images', action='store_true',
                            help="keep --eval_freq's synthesized val images (checkpoints/<name>/eval_images/"
                                 "<iteration>/), so the run can be scored again with any metric")
        parser.add_argument('--eval_seg_weights', type=str, default='',
                            help='small segmenter (scripts/train_segmenter.py) for --eval_freq: adds mIoU, accuracy '
                                 'and FID/KID on its features')

        # schedule and optimiser (SPADE: TTUR, Adam(0, 0.9))
        parser.add_argument('--niter', type=int, default=50, help='epochs at the initial learning rate')
        parser.add_argument('--niter_decay', type=int, default=0,
                            help='epochs of linear decay after --niter: the rate falls by lr/niter_decay an epoch, '
                                 'so the last epoch trains at lr/niter_decay (never at 0)')
        parser.add_argument('--lr', type=float, default=0.0002)
        parser.add_argument('--no_TTUR', action='store_true',
                            help='same lr for G and D (default, TTUR: G lr/2, D lr*2)')
        # Adam's betas, with SPADE's defaults for each schedule; given values are used under both.
        ttur = not parser.peek().no_TTUR
        parser.add_argument('--beta1', type=float, default=0.0 if ttur else 0.5, help="Adam's beta1")
        parser.add_argument('--beta2', type=float, default=0.9 if ttur else 0.999, help="Adam's beta2")
        parser.add_argument('--D_steps_per_G', type=int, default=1)

        # discriminators
        parser.add_argument('--ndf', type=int, default=DEFAULTS.ndf, help='discriminator width')
        parser.add_argument('--num_D', type=int, default=DEFAULTS.num_D, help='scales of the multiscale discriminators')
        parser.add_argument('--n_layers_D', type=int, default=DEFAULTS.n_layers_D)
        parser.add_argument('--gan_mode', type=str, default='hinge', choices=('hinge', 'ls', 'original'))

        # image losses
        parser.add_argument('--lambda_feat', type=float, default=10.0)
        parser.add_argument('--lambda_vgg', type=float, default=10.0)
        parser.add_argument('--lambda_kld', type=float, default=0.05)
        parser.add_argument('--no_ganFeat_loss', action='store_true')
        parser.add_argument('--no_vgg_loss', action='store_true')
        return parser
