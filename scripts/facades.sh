#!/usr/bin/env bash
# ULBPGAN on real photos with a CPU: the CMP Facade Database's base set (the folder base/ of
# https://github.com/Thunderwisking/CMP_facade_Toolf4InstanceSegmentation), with the dataset's CPU-sized defaults
# (data/facades_dataset.py): 128x128, batch 4, 10 epochs (5 constant, 5 decaying), narrow networks.
#
#   bash scripts/facades.sh [train|test|eval|ablation|all]      (default all)
#   DATAROOT=datasets/facades SEG_WEIGHTS=... FID_WEIGHTS=... bash scripts/facades.sh
#
# train/test/eval/all: the full model, checkpoints/facades_ulbpgan; ablation: the five rows
# facades_{spade,lbp_generator,mfade,ulbpgan,lbpconv}. Training resumes (--continue_train) when stopped, and uses
# the VGG loss when its weights are at hand (VGG_WEIGHTS or the torch hub cache) as train.py does for this
# dataset; NO_VGG=1 trains without it. Evaluation (the val split): FID (pt_inception-2015-12-05-6726825d.pth) and
# mIoU/acc over the 12 classes with the small U-Net of scripts/train_segmenter.py: SEG_WEIGHTS, else
# checkpoints/segmenter_facades.pth (evaluate.py's default), which is trained on the train photos first when
# missing (SEG_ITERS iterations, default 2000). Other variables: see scripts/common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DATASET=facades
DATAROOT="${DATAROOT:-datasets/facades}"
GLOBAL_BATCH=4
NITER=5
NITER_DECAY=5
NTHREADS="${NTHREADS:-2}"  # small photos: two loader workers keep up on a laptop
VGG_OPTIONAL=1
DATA_ARGS=()  # the dataset's defaults
SEGMENTER=checkpoints/segmenter_facades.pth
LAYOUT="DATAROOT/cmp_bNNNN.jpg photos and DATAROOT/cmp_bNNNN.png label maps (1-12), all splits in one folder"
WHERE="put the files of the folder base/ of https://github.com/Thunderwisking/CMP_facade_Toolf4InstanceSegmentation in datasets/facades, or set DATAROOT (now '$DATAROOT')"

# The splits are file numbers in one folder (data/facades_dataset.py): any split needs the folder and its labels.
check_split() {
    require_dir "$DATAROOT" "CMP Facade DATAROOT" "$LAYOUT" "$WHERE"
    compgen -G "$DATAROOT/cmp_b*.png" >/dev/null ||
        die "CMP Facade DATAROOT '$DATAROOT' holds no cmp_b*.png label maps; expected layout: $LAYOUT; $WHERE"
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
    run_cmd "$PYTHON" scripts/train_segmenter.py --dataset_mode facades --dataroot "$DATAROOT" --out "$SEGMENTER" \
        --iters "${SEG_ITERS:-2000}"
}

dataset_main "$@"
