#!/usr/bin/env bash
# Reproduce ULBPGAN on ADE20K with SPADE's settings (the paper publishes no training settings):
# 256x256 (resize to 286, random crop 256), global batch 32 (split over GPUS processes),
# 100 epochs + 100 epochs of linear decay.
#
#   bash scripts/ade20k.sh [train|test|eval|ablation|all]      (default all)
#   DATAROOT=datasets/ade20k GPUS=8 VGG_WEIGHTS=... FID_WEIGHTS=... SEG_WEIGHTS=... bash scripts/ade20k.sh
#
# train/test/eval/all: the full model, checkpoints/ade20k_ulbpgan; ablation: the five rows
# ade20k_{spade,lbp_generator,mfade,ulbpgan,lbpconv}. Training resumes (--continue_train) when stopped.
# Evaluation: FID (pt_inception-2015-12-05-6726825d.pth) and mIoU/acc with UperNet-101, mIoU over all
# 150 classes as CSAILVision computes it; SEG_WEIGHTS is then a FOLDER holding encoder_epoch_50.pth and
# decoder_epoch_50.pth (or the ade20k-/baseline-resnet101-upernet folder with them).
# Other variables: see scripts/common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DATASET=ade20k
DATAROOT="${DATAROOT:-datasets/ade20k}"
GLOBAL_BATCH=32
NITER=100
NITER_DECAY=100
DATA_ARGS=()  # the dataset's defaults are SPADE's: --load_size 286 --crop_size 256, 150 classes + dontcare
LAYOUT="DATAROOT/images/{training,validation}/ADE_*.jpg and DATAROOT/annotations/{training,validation}/ADE_*.png"
WHERE="download http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip, unzip it and set DATAROOT to its ADEChallengeData2016 folder (now '$DATAROOT')"

check_split() {
    local split=training
    [[ $1 == train ]] || split=validation
    require_dir "$DATAROOT" "ADE20K DATAROOT" "$LAYOUT" "$WHERE"
    require_dir "$DATAROOT/images/$split" "ADE20K images ($split)" "$LAYOUT" "$WHERE"
    require_dir "$DATAROOT/annotations/$split" "ADE20K labels ($split)" "$LAYOUT" "$WHERE"
}

# SPADE's authors point to CSAIL's baseline-resnet101-upernet, which CSAIL now publishes as
# ade20k-resnet101-upernet; either folder name works (evaluate.py accepts both).
UPERNET_FOLDERS=(ade20k-resnet101-upernet baseline-resnet101-upernet)
UPERNET_URL=http://sceneparsing.csail.mit.edu/model/pytorch/ade20k-resnet101-upernet/
require_segmenter() {
    local part
    hub_checkpoints
    for part in encoder_epoch_50.pth decoder_epoch_50.pth; do
        if [[ -n "${SEG_WEIGHTS:-}" ]]; then
            [[ -f "$SEG_WEIGHTS/$part" || -f "$SEG_WEIGHTS/${UPERNET_FOLDERS[0]}/$part" || -f "$SEG_WEIGHTS/${UPERNET_FOLDERS[1]}/$part" ]] ||
                die "mIoU segmenter (ADE20K UperNet-101): $SEG_WEIGHTS/$part not found; SEG_WEIGHTS must be a folder with encoder_epoch_50.pth and decoder_epoch_50.pth (or holding ${UPERNET_FOLDERS[0]}/ or ${UPERNET_FOLDERS[1]}/ with them) from $UPERNET_URL"
        elif [[ ! -f "$HUB_CHECKPOINTS/${UPERNET_FOLDERS[1]}_$part" ]]; then
            require_weight "mIoU segmenter (ADE20K UperNet-101)" SEG_WEIGHTS "${UPERNET_FOLDERS[0]}_$part" \
                "$UPERNET_URL$part (saved under the name ${UPERNET_FOLDERS[0]}_$part or ${UPERNET_FOLDERS[1]}_$part)"
        fi
    done
}

dataset_main "$@"
