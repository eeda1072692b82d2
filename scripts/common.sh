# Shared helpers of scripts/{cityscapes,ade20k,coco,camvid}.sh; source it, do not run it.
#
# Every check fails with ONE line on stderr ("<script>: error: ...") and exit status 1, so a
# missing dataset folder or weight file is caught before hours of training, not after.
#
# Environment read here (all optional):
#   GPUS          processes/GPUs for training (torchrun when > 1; default 1)
#   VGG_WEIGHTS   vgg19-dcbb9e9d.pth (default: the torch hub cache); NO_VGG=1 trains without VGG loss
#   FID_WEIGHTS   pt_inception-2015-12-05-6726825d.pth (default: the torch hub cache)
#   SEG_WEIGHTS   the dataset's segmenter weights (default: the torch hub cache)
#   SEG_SIZE      native (default: segment at the synthesized size) or original (upsampled to the dataset's
#                 label files, e.g. 1024x2048 for Cityscapes); see docs/EVALUATION.md
#   DOWNLOAD=1    skip the weight checks and let train.py / evaluate.py download missing files
#   NTHREADS      data-loader workers per process (default 4)
#   PYTHON        interpreter (default python)
#   DRY_RUN=1     print the train/test/evaluate commands (one per line, "+ " first) instead of running them

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME="$(basename "$0")"
PYTHON="${PYTHON:-python}"

die() {
    echo "$SCRIPT_NAME: error: $*" >&2
    exit 1
}

# run_cmd CMD...: run it, or print it under DRY_RUN=1.
run_cmd() {
    if [[ "${DRY_RUN:-0}" == 1 ]]; then
        echo "+ $*"
    else
        "$@"
    fi
}

# require_dir DIR WHAT LAYOUT DOWNLOAD_HINT
require_dir() {
    local dir=$1 what=$2 layout=$3 hint=$4
    [[ -d "$dir" ]] || die "$what folder '$dir' not found; expected layout: $layout; $hint"
    return 0
}

# hub_checkpoints: set HUB_CHECKPOINTS to the torch hub checkpoint folder, where the weight files
# are looked for and downloaded to. util/weights.py decides it (torch.hub.get_dir(), which follows
# TORCH_HOME and XDG_CACHE_HOME), so Python is asked, once per run: starting it takes a moment.
HUB_CHECKPOINTS=""
hub_checkpoints() {
    [[ -n "$HUB_CHECKPOINTS" ]] && return 0
    HUB_CHECKPOINTS="$(cd "$REPO_ROOT" && "$PYTHON" -m util.weights 2>/dev/null)" ||
        die "cannot find the torch hub folder: '$PYTHON -m util.weights' failed (is torch installed? set PYTHON)"
}

# require_weight WHAT ENV_VAR FILENAME URL [OFF_HINT]
# The file is $ENV_VAR when that is set, else <torch hub dir>/checkpoints/FILENAME. URL is where it is
# published; FETCHABLE=0 (set for the call) says that is a page, not the file, so DOWNLOAD=1 cannot help.
require_weight() {
    local what=$1 var=$2 file=$3 url=$4 off=${5:-} fetch=" (DOWNLOAD=1 lets the Python code fetch it)"
    local given="${!var:-}"
    if [[ -n "$given" ]]; then
        [[ -e "$given" ]] || die "$what: $var=$given does not exist (download $file from $url)${off:+; $off}"
        return 0
    fi
    if [[ "${FETCHABLE:-1}" == 0 ]]; then fetch=""; elif [[ "${DOWNLOAD:-0}" == 1 ]]; then return 0; fi
    hub_checkpoints
    local cached="$HUB_CHECKPOINTS/$file"
    [[ -f "$cached" ]] || die "$what: $file not found at $cached; download it from $url and put it there or set $var=PATH$fetch${off:+; $off}"
    return 0
}

# VGG_OPTIONAL=1 (set by a script whose dataset trains with the VGG loss only when its weights are at hand,
# camvid.sh) skips the check: train.py then decides.
require_vgg() {
    [[ "${NO_VGG:-0}" == 1 || "${VGG_OPTIONAL:-0}" == 1 ]] && return 0
    require_weight "VGG19 perceptual loss (training)" VGG_WEIGHTS vgg19-dcbb9e9d.pth \
        https://download.pytorch.org/models/vgg19-dcbb9e9d.pth "or NO_VGG=1 to train without the VGG loss"
}

require_inception() {
    require_weight "FID/KID (evaluation)" FID_WEIGHTS pt_inception-2015-12-05-6726825d.pth \
        https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
}

# require_checkpoint NAME: test needs a trained model.
require_checkpoint() {
    local path="$REPO_ROOT/checkpoints/$1/latest.pth"
    [[ -f "$path" ]] || die "no checkpoint checkpoints/$1/latest.pth: train it first ($SCRIPT_NAME train)"
}

# require_results NAME: eval needs test.py's images.
require_results() {
    local path="$REPO_ROOT/results/$1/val_latest/images/synthesized_image"
    [[ -d "$path" ]] || die "no results/$1/val_latest/images/: run the test mode first ($SCRIPT_NAME test)"
}

# VGG_ARGS / EVAL_ARGS: options for the weight files passed through from the environment.
set_weight_args() {
    VGG_ARGS=()
    if [[ "${NO_VGG:-0}" == 1 ]]; then
        VGG_ARGS=(--no_vgg_loss)
    elif [[ -n "${VGG_WEIGHTS:-}" ]]; then
        VGG_ARGS=(--vgg_weights "$VGG_WEIGHTS")
    fi
    EVAL_ARGS=()
    [[ -n "${FID_WEIGHTS:-}" ]] && EVAL_ARGS+=(--fid_weights "$FID_WEIGHTS")
    [[ -n "${SEG_WEIGHTS:-}" ]] && EVAL_ARGS+=(--seg_weights "$SEG_WEIGHTS")
    [[ -n "${SEG_SIZE:-}" ]] && EVAL_ARGS+=(--seg_size "$SEG_SIZE")
    return 0
}

# The ablation rows (scripts/ablation.py, shared with scripts/experiment.py); the key is the experiment
# name's suffix. ablation_args ROW: its train.py options (test.py takes them from the checkpoint).
ablation_rows() {
    "$PYTHON" "$REPO_ROOT/scripts/ablation.py" || die "'$PYTHON scripts/ablation.py' failed: cannot list the ablation rows"
}
ablation_args() {
    "$PYTHON" "$REPO_ROOT/scripts/ablation.py" "$1" || die "unknown ablation row '$1'"
}

# per_process_batch GLOBAL: the global batch split over $GPUS processes (batchSize is per process).
per_process_batch() {
    local global=$1 gpus=${GPUS:-1}
    [[ "$gpus" =~ ^[1-9][0-9]*$ ]] || die "GPUS=$gpus: must be a positive integer"
    (( global % gpus == 0 )) || die "GPUS=$gpus does not divide the global batch size $global"
    echo $(( global / gpus ))
}

# run_train NAME FINAL_EPOCH ARGS...: python train.py (torchrun with GPUS > 1), resumable:
# skipped when checkpoints/NAME/<FINAL_EPOCH>.pth exists, --continue_train when latest.pth does.
run_train() {
    local name=$1 final=$2
    shift 2
    local dir="$REPO_ROOT/checkpoints/$name" gpus=${GPUS:-1} resume=()
    if [[ -f "$dir/$final.pth" ]]; then
        echo "== $name: already trained ($dir/$final.pth); delete it to train again"
        return 0
    fi
    [[ -f "$dir/latest.pth" ]] && resume=(--continue_train)
    echo "== train $name${resume:+ (resuming: --continue_train)}"
    if (( gpus > 1 )); then
        run_cmd torchrun --standalone --nproc_per_node "$gpus" train.py --name "$name" \
            --gpu_ids "$(seq -s, 0 $((gpus - 1)))" "${resume[@]}" "$@"
    else
        run_cmd "$PYTHON" train.py --name "$name" "${resume[@]}" "$@"
    fi
}

# print_table NAME...: one markdown table from results/NAME/val_latest/metrics.json, made by the
# function evaluate.py prints its row with (evaluation/table.py), and each row's protocol line below.
print_table() {
    "$PYTHON" -m evaluation.table "$REPO_ROOT/results" "$@" --protocol
}

# dataset_main [MODE]: the driver of cityscapes.sh / ade20k.sh / coco.sh / camvid.sh. The calling script sets
#   DATASET, DATAROOT, GLOBAL_BATCH, NITER, NITER_DECAY, DATA_ARGS (array of dataset options)
# and defines check_split train|val (require_dir on the split's folders) and require_segmenter; it may
# define prepare_eval, run once after every check when a mode evaluates (camvid.sh trains its segmenter).
# Modes: train / test / eval the full model <dataset>_ulbpgan; all = the three in turn;
# ablation = all of it for the five rows <dataset>_{spade,lbp_generator,mfade,ulbpgan,lbpconv}.
# Every file a mode needs is checked before anything runs.
dataset_main() {
    local mode=${1:-all} steps rows=(ulbpgan) row step
    case $mode in
        train | test | eval) steps=("$mode") ;;
        all | ablation) steps=(train test eval) ;;
        *) die "mode '$mode': choose train, test, eval, ablation or all" ;;
    esac
    if [[ $mode == ablation ]]; then
        local listed
        listed=$(ablation_rows) || exit 1
        read -ra rows <<< "$listed"
    fi
    set_weight_args

    for step in "${steps[@]}"; do
        case $step in
            train) check_split train; require_vgg; per_process_batch "$GLOBAL_BATCH" >/dev/null ;;
            test) check_split val ;;
            eval)
                [[ "${SEG_SIZE:-native}" =~ ^(native|original)$ ]] || die "SEG_SIZE=$SEG_SIZE: choose native or original"
                require_inception; require_segmenter ;;
        esac
    done
    for row in "${rows[@]}"; do
        if [[ $mode == test ]]; then require_checkpoint "${DATASET}_$row"; fi
        if [[ $mode == eval ]]; then require_results "${DATASET}_$row"; fi
    done

    if [[ " ${steps[*]} " == *" eval "* ]] && declare -F prepare_eval >/dev/null; then prepare_eval; fi

    local batch names=()
    batch=$(per_process_batch "$GLOBAL_BATCH")
    for row in "${rows[@]}"; do
        local name="${DATASET}_$row"
        names+=("$name")
        # shellcheck disable=SC2046  # the option lists are single words
        for step in "${steps[@]}"; do
            case $step in
                train)
                    run_train "$name" $((NITER + NITER_DECAY)) --dataset_mode "$DATASET" --dataroot "$DATAROOT" \
                        "${DATA_ARGS[@]}" $(ablation_args "$row") --batchSize "$batch" --niter "$NITER" \
                        --niter_decay "$NITER_DECAY" --nThreads "${NTHREADS:-4}" "${VGG_ARGS[@]}" ;;
                test)
                    echo "== test $name"
                    run_cmd "$PYTHON" test.py --name "$name" --dataset_mode "$DATASET" --dataroot "$DATAROOT" \
                        "${DATA_ARGS[@]}" --which_epoch latest \
                        --nThreads "${NTHREADS:-4}" ;;
                eval)
                    echo "== evaluate $name"
                    run_cmd "$PYTHON" evaluate.py --name "$name" --dataset_mode "$DATASET" --dataroot "$DATAROOT" \
                        --which_epoch latest "${EVAL_ARGS[@]}" ;;
            esac
        done
    done
    if [[ " ${steps[*]} " == *" eval "* && "${DRY_RUN:-0}" != 1 ]]; then
        echo
        print_table "${names[@]}"
    fi
}

# Paths given in the environment are relative to where the script was called from.
for _var in DATAROOT VGG_WEIGHTS FID_WEIGHTS SEG_WEIGHTS; do
    if [[ -n "${!_var:-}" && "${!_var}" != /* ]]; then
        printf -v "$_var" '%s' "$PWD/${!_var}"
    fi
done
unset _var
cd "$REPO_ROOT"
