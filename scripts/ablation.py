"""The ablation rows, once for every script: key -> (label, train.py options).

scripts/experiment.py trains DEMO_ROWS on the demo data; scripts/{cityscapes,ade20k,coco,camvid}.sh's
`ablation` trains DATASET_ROWS as <dataset>_<key> (scripts/common.sh reads them from here:
`python scripts/ablation.py` lists the dataset rows, `python scripts/ablation.py KEY` prints a row's
options). docs/METHOD.md says what each row adds.
"""
import sys

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
}
DEMO_ROWS = ('spade', 'lbp_generator', 'mfade', 'ulbpgan', 'no_image_fake')
DATASET_ROWS = ('spade', 'lbp_generator', 'mfade', 'ulbpgan', 'lbpconv')


def main(args):
    if not args:
        print(' '.join(DATASET_ROWS))
    elif args[0] in ROWS:
        print(' '.join(ROWS[args[0]][1]))
    else:
        sys.exit(f"unknown ablation row '{args[0]}': one of {', '.join(ROWS)}")


if __name__ == '__main__':
    main(sys.argv[1:])
