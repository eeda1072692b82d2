#!/usr/bin/env bash
# Reproduce ULBPGAN on COCO-Stuff with SPADE's settings (100 epochs in all; the paper publishes none):
# 256x256 (resize to 286, random crop 256), global batch 32 (split over GPUS processes),
# 50 epochs + 50 epochs of linear decay, with instance maps (NO_INSTANCE=1: without).
#
#   bash scripts/coco.sh [train|test|eval|ablation|all]      (default all)
#   DATAROOT=datasets/coco GPUS=8 VGG_WEIGHTS=... FID_WEIGHTS=... SEG_WEIGHTS=... bash scripts/coco.sh
#
# train/test/eval/all: the full model, checkpoints/coco_ulbpgan; ablation: the five rows
# coco_{spade,lbp_generator,mfade,ulbpgan,lbpconv}. Training resumes (--continue_train) when stopped.
# Evaluation: FID (pt_inception-2015-12-05-6726825d.pth) and mIoU/acc with DeepLab v2
# (deeplabv2_resnet101_msc-cocostuff164k-100000.pth, SEG_WEIGHTS), mIoU over the classes present in the
# ground truth as kazuto1011/deeplab-pytorch computes it. Other variables: see scripts/common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DATASET=coco
DATAROOT="${DATAROOT:-datasets/coco}"
GLOBAL_BATCH=32
NITER=50
NITER_DECAY=50
DATA_ARGS=()  # the dataset's defaults are SPADE's: --load_size 286 --crop_size 256, 182 classes + dontcare
KINDS="img label inst"
if [[ "${NO_INSTANCE:-0}" == 1 ]]; then
    DATA_ARGS+=(--no_instance)
    KINDS="img label"
fi
LAYOUT="DATAROOT/{train,val}_img/*.jpg, DATAROOT/{train,val}_label/*.png, DATAROOT/{train,val}_inst/*.png (SPADE's layout; NO_INSTANCE=1 without _inst)"
WHERE="get train2017/val2017 images and stuffthingmaps_trainval2017 from https://github.com/nightrome/cocostuff and arrange them as above in DATAROOT (now '$DATAROOT'), instance maps as SPADE's scripts/coco_generate_instance_map.py makes them"

check_split() {
    local kind
    require_dir "$DATAROOT" "COCO-Stuff DATAROOT" "$LAYOUT" "$WHERE"
    for kind in $KINDS; do
        require_dir "$DATAROOT/$1_$kind" "COCO-Stuff $1_$kind" "$LAYOUT" "$WHERE"
    done
}

require_segmenter() {
    require_weight "mIoU segmenter (COCO-Stuff DeepLab v2)" SEG_WEIGHTS \
        deeplabv2_resnet101_msc-cocostuff164k-100000.pth \
        https://github.com/kazuto1011/deeplab-pytorch/releases/download/v1.0/deeplabv2_resnet101_msc-cocostuff164k-100000.pth
}

dataset_main "$@"
