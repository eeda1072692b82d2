#!/usr/bin/env bash
# Reproduce ULBPGAN on Cityscapes with SPADE's settings (the paper publishes no training settings):
# 256x512, global batch 16 (split over GPUS processes), 100 epochs + 100 epochs of linear decay.
#
#   bash scripts/cityscapes.sh [train|test|eval|ablation|all]      (default all)
#   DATAROOT=datasets/cityscapes GPUS=8 VGG_WEIGHTS=... FID_WEIGHTS=... SEG_WEIGHTS=... bash scripts/cityscapes.sh
#
# train/test/eval/all: the full model, checkpoints/cityscapes_ulbpgan; ablation: the five rows
# cityscapes_{spade,lbp_generator,mfade,ulbpgan,lbpconv}. Training resumes (--continue_train) when stopped.
# Evaluation: FID (pt_inception-2015-12-05-6726825d.pth) and mIoU/acc with DRN-D-105
# (drn-d-105_ms_cityscapes.pth from http://go.yf.io/drn-cityscapes-models, SEG_WEIGHTS), mIoU over the
# classes with union > 0 as fyu/drn computes it. Other variables: see scripts/common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DATASET=cityscapes
DATAROOT="${DATAROOT:-datasets/cityscapes}"
GLOBAL_BATCH=16
NITER=100
NITER_DECAY=100
DATA_ARGS=(--load_size 512 --crop_size 512 --aspect_ratio 2)
LAYOUT="DATAROOT/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png and DATAROOT/gtFine/{train,val}/<city>/*_gtFine_{labelIds,instanceIds}.png"
WHERE="download leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip from https://www.cityscapes-dataset.com/ and unzip both into DATAROOT (now '$DATAROOT')"

check_split() {
    require_dir "$DATAROOT" "Cityscapes DATAROOT" "$LAYOUT" "$WHERE"
    require_dir "$DATAROOT/leftImg8bit/$1" "Cityscapes images ($1)" "$LAYOUT" "$WHERE"
    require_dir "$DATAROOT/gtFine/$1" "Cityscapes labels ($1)" "$LAYOUT" "$WHERE"
}

# fyu/drn publishes its Cityscapes models on a page, not at a file URL: nothing can be downloaded.
require_segmenter() {
    FETCHABLE=0 require_weight "mIoU segmenter (Cityscapes DRN-D-105)" SEG_WEIGHTS drn-d-105_ms_cityscapes.pth \
        "http://go.yf.io/drn-cityscapes-models (fyu/drn's Cityscapes models)"
}

dataset_main "$@"
