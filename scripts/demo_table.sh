#!/usr/bin/env bash
# The paper's comparison in miniature, on the generated demo data (no download, CPU is enough):
# the SPADE baseline and ULBPGAN (fp32, with --nhidden_lbp 0, and on the bf16 fast path) trained for
# the same number of iterations with the same seed and widths, test.py on the 20 val scenes, a small U-Net segmenter trained on the real demo images
# (for mIoU / acc), evaluate.py, and one markdown table with each model's protocol line below it:
#
#   | model | mIoU | acc | LBP dist | FID | KID |
#
#   bash scripts/demo_table.sh                      # ~40 minutes on 2 CPU cores (ITERS=1000, 4 rows)
#   ITERS=200 bash scripts/demo_table.sh            # a quick look
#
# Environment (all optional):
#   ITERS        training iterations of each model (default 1000 = the demo's 20 epochs of 50 batches)
#   SEED         seed of both runs (default 0)
#   SEG_ITERS    iterations of the segmenter, trained only when SEG_WEIGHTS does not exist (default 1000)
#   SEG_WEIGHTS  the segmenter checkpoint (default checkpoints/segmenter_demo.pth)
#   FID_WEIGHTS  pt_inception-2015-12-05-6726825d.pth (default: the torch hub cache; FID/KID show
#                "n/a: weights missing" without it)
#   REUSE=1      keep checkpoints/<row>/latest.pth when they exist instead of retraining
#   ROWS         the rows, by experiment name (default: demo_spade demo_ulbp demo_ulbp_nhidden_lbp0
#                demo_ulbp_bf16 = SPADE, ULBPGAN fp32, ULBPGAN with --nhidden_lbp 0, ULBPGAN on the
#                bf16 + channels_last fast path)
#   TABLE_OUT    where the table is written as well (default results/demo_table.md)
#   DATAROOT     the demo data (default datasets/demo, generated there on first use)
# Experiments: checkpoints/demo_spade, checkpoints/demo_ulbp; pictures: results/<name>/val_latest/index.html.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ITERS="${ITERS:-1000}"
SEED="${SEED:-0}"
SEG_ITERS="${SEG_ITERS:-1000}"
SEG_WEIGHTS="${SEG_WEIGHTS:-checkpoints/segmenter_demo.pth}"
TABLE_OUT="${TABLE_OUT:-results/demo_table.md}"
DATAROOT="${DATAROOT:-datasets/demo}"
[[ "$ITERS" =~ ^[1-9][0-9]*$ ]] || die "ITERS=$ITERS: must be a positive integer"

# The demo has 200 training scenes in batches of 4: 50 iterations an epoch. Enough epochs at the
# constant demo learning rate that --max_iters, not the schedule, ends both runs.
NITER=$(( (ITERS + 49) / 50 ))
SHARED=(--dataset_mode demo --dataroot "$DATAROOT" --seed "$SEED" --ngf 16 --nhidden 32)
TRAIN=(--ndf 16 --max_iters "$ITERS" --niter "$NITER" --niter_decay 0 --save_epoch_freq 100000)
# Each row's own options (words without spaces). --amp is explicit: the demo's default path may differ.
declare -A ARCH=(
    [demo_spade]="--netG spade --amp none"
    [demo_ulbp]="--netG ulbp --amp none"
    [demo_ulbp_nhidden_lbp0]="--netG ulbp --amp none --nhidden_lbp 0"
    [demo_ulbp_bf16]="--netG ulbp --amp bf16 --channels_last"
)
read -r -a NAMES <<<"${ROWS:-demo_spade demo_ulbp demo_ulbp_nhidden_lbp0 demo_ulbp_bf16}"
for name in "${NAMES[@]}"; do
    [[ -n "${ARCH[$name]:-}" ]] || die "ROWS: unknown row '$name'; choose from ${!ARCH[*]}"
done

start=$SECONDS
stamp() { printf '== [%s, %dm%02ds] %s\n' "$(date -u +%H:%M:%S)" $(( (SECONDS - start) / 60 )) $(( (SECONDS - start) % 60 )) "$*"; }

for name in "${NAMES[@]}"; do
    if [[ "${REUSE:-0}" == 1 && -f "checkpoints/$name/latest.pth" ]]; then
        stamp "train $name: reusing checkpoints/$name/latest.pth (REUSE=1)"
        continue
    fi
    stamp "train $name: $ITERS iterations"
    # shellcheck disable=SC2086
    "$PYTHON" train.py --name "$name" ${ARCH[$name]} "${SHARED[@]}" "${TRAIN[@]}"
done

for name in "${NAMES[@]}"; do
    stamp "test $name"
    # shellcheck disable=SC2086
    "$PYTHON" test.py --name "$name" ${ARCH[$name]} "${SHARED[@]}" --which_epoch latest
done

if [[ -f "$SEG_WEIGHTS" ]]; then
    stamp "segmenter: reusing $SEG_WEIGHTS"
else
    stamp "train the segmenter on the real demo images: $SEG_ITERS iterations"
    "$PYTHON" scripts/train_segmenter.py --dataset_mode demo --dataroot "$DATAROOT" --iters "$SEG_ITERS" \
        --out "$SEG_WEIGHTS"
fi

EVAL=(--dataset_mode demo --which_epoch latest --segmenter small --seg_weights "$SEG_WEIGHTS" --allow_missing)
[[ -n "${FID_WEIGHTS:-}" ]] && EVAL+=(--fid_weights "$FID_WEIGHTS")

for name in "${NAMES[@]}"; do
    stamp "evaluate $name"
    "$PYTHON" evaluate.py --name "$name" "${EVAL[@]}"
done

table=$(print_table "${NAMES[@]}")
elapsed=$(( SECONDS - start ))
mkdir -p "$(dirname "$TABLE_OUT")"
{
    echo "Demo data (128x64, 200 train / 20 val scenes): SPADE baseline vs ULBPGAN, $ITERS iterations each,"
    echo "seed $SEED, ngf/ndf 16, nhidden 32; mIoU/acc by the small U-Net ($SEG_WEIGHTS); made by"
    echo "scripts/demo_table.sh in $(( elapsed / 60 ))m$(printf '%02d' $(( elapsed % 60 )))s on $(date -u +%Y-%m-%d)."
    echo
    echo "$table"
} >"$TABLE_OUT"
echo
echo "$table"
echo
stamp "done; table written to $TABLE_OUT"
