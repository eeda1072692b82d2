"""The rows every experiment and ablation script trains: key -> (label, train.py options).

experiments/ trains DEMO_ROWS on the demo data and REALISM_ROWS on CamVid; scripts/{cityscapes,ade20k,coco,camvid}.sh's
`ablation` trains DATASET_ROWS as <dataset>_<key> (through scripts/ablation.py). docs/METHOD.md says what each row adds.
"""
ROWS = {
    'spade': ('SPADE', ['--netG', 'spade']),  # no G_L, no D_L, no LBP term
    'lbp_generator': ('+ LBP generator',  # SPADE on concat(S, L)
                      ['--netG', 'ulbp', '--norm_G', 'spectralspadesyncbatch3x3', '--no_lbp_D']),
    'mfade': ('+ MFADE', ['--netG', 'ulbp', '--no_lbp_D']),
    'ulbpgan': ('ULBPGAN (+ D_L)', ['--netG', 'ulbp']),
    # D_L judges only G_L's map: G_I gets no texture signal from D_L
    'no_image_fake': ('ULBPGAN without LBP(I) in D_L', ['--netG', 'ulbp', '--no_lbp_image_fake']),
    # MFADE's LBP branch as the paper's figure: γ_o, β_o = conv(L), no hidden layer
    'lbpconv': ("ULBPGAN with the paper's MFADE figure", ['--netG', 'ulbp', '--nhidden_lbp', '0']),
    # SPADE as large as ULBPGAN at CamVid's defaults (ngf 16, ndf 16, nhidden 32): G 8.59 M parameters against
    # G + G_L 8.31 M (+3 %), D 0.73 M against D_I + D_L 0.71 M (+2 %). Widening ngf (every G_I layer, as
    # ULBPGAN adds width everywhere through MFADE's second branch and G_L) rather than nhidden; ndf 23 is the
    # nearest D width (22: -6 %, 24: +11 %). `python scripts/ablation.py --params` recounts them.
    'spade_params': ("SPADE (ULBPGAN's parameters)", ['--netG', 'spade', '--ngf', '20', '--ndf', '23']),
    # SPADE given ULBPGAN's compute: ITERATIONS times the iterations, the same schedule shape
    'spade_compute': ("SPADE (ULBPGAN's compute)", ['--netG', 'spade']),
}
# A ULBPGAN iteration costs 1.9-2.0 SPADE iterations at CamVid's defaults (one thread, AMD EPYC with AVX-512:
# 1.04 / 0.54 s in bf16, 1.64 / 0.81 s in fp32; docs/PERFORMANCE.md), so SPADE's compute row trains twice as long.
ITERATIONS = {'spade_compute': 2}
DEMO_ROWS = ('spade', 'lbp_generator', 'mfade', 'ulbpgan', 'no_image_fake')
REALISM_ROWS = ('spade', 'spade_params', 'spade_compute', 'ulbpgan')
DATASET_ROWS = ('spade', 'lbp_generator', 'mfade', 'ulbpgan', 'lbpconv')


def parameters(row, dataset_mode='camvid'):
    """(G side, D side) parameter counts of a row at a dataset's defaults: G, G_L (and E); D_I and D_L."""
    from models.pix2pix_model import Pix2PixModel
    from options.train_options import TrainOptions
    options = TrainOptions()
    opt = options.parse(['--dataset_mode', dataset_mode, '--gpu_ids', '-1', '--no_vgg_loss', *ROWS[row][1]])
    nets = Pix2PixModel.from_options(opt).networks()
    count = lambda keys: sum(p.numel() for k in keys if k in nets for p in nets[k].parameters())  # noqa: E731
    return count(('G', 'GL', 'E')), count(('D', 'DL'))
