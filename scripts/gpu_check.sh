#!/usr/bin/env bash
# GPU check: does training run on CUDA in each precision, under torchrun with NCCL, and
# are the label-map lookups or the dense convs faster there? One markdown table of the figures.
#
#   bash scripts/gpu_check.sh               # one CUDA GPU, under 8 minutes
#   bash scripts/gpu_check.sh --dry-run     # (or DRY_RUN=1) the same steps on the CPU: tiny sizes and
#                                           # iteration counts, --gpu_ids -1, fp32 only; the bf16, fp16
#                                           # and NCCL rows are skipped with a note (about a minute)
# Steps:
#   1. the demo trained ITERS iterations (default 300) in fp32, bf16 and fp16 (--amp X --channels_last)
#   2. the same fp32 training as a one-process `torchrun --nproc_per_node 1` run (NCCL, DDP)
#   3. test.py on the fp32 model (the demo's val split)
#   4. scripts/benchmark.py --dataset coco (ULBPGAN and SPADE, fp32 and fast) with --label_convs lookup
#      and with --label_convs dense (auto picks dense on CUDA until this says the lookups are faster)
# Writes $REPORT (default $GPU_CHECK_DIR/gpu_check.md): img/s, s/iter, peak memory, lookup ÷ dense.
# A step that fails is a row saying so (the others still run) and the exit status is 1.
#
# Environment (all optional):
#   ITERS          training iterations per row (default 300; dry run 3)
#   GPU_CHECK_DIR  checkpoints, results and the table (default checkpoints/gpu_check)
#   REPORT         the table's file (default $GPU_CHECK_DIR/gpu_check.md)
#   DATAROOT       the demo data (default datasets/demo, generated on first use)
#   PYTHON         interpreter (default python)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python}"
DRY="${DRY_RUN:-0}"
for arg in "$@"; do
    case $arg in
        --dry-run) DRY=1 ;;
        *) echo "gpu_check.sh: error: unknown argument '$arg' (only --dry-run)" >&2; exit 1 ;;
    esac
done

GPU_CHECK_DIR="${GPU_CHECK_DIR:-$REPO_ROOT/checkpoints/gpu_check}"
REPORT="${REPORT:-$GPU_CHECK_DIR/gpu_check.md}"
DATAROOT="${DATAROOT:-$REPO_ROOT/datasets/demo}"
CK="$GPU_CHECK_DIR/checkpoints"
RES="$GPU_CHECK_DIR/results"
ROWS="$GPU_CHECK_DIR/rows.jsonl"
HELPER=("$PYTHON" "$REPO_ROOT/scripts/gpu_check.py")
cd "$REPO_ROOT"

if [[ "$DRY" == 1 ]]; then
    ITERS="${ITERS:-3}"
    GPU=-1
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"  # tiny ops: more threads only wait on each other
    # tiny: 64×32 images, narrow networks, no loader workers; fp32 even where the demo would pick bf16
    SIZE=(--crop_size 64 --load_size 64 --ngf 8 --ndf 8 --ngf_lbp 8 --nhidden 8 --batchSize 2 --nThreads 0)
    PRINT=1
    BENCH=(--device cpu --size 64 64 --ngf 4 --ndf 4 --nhidden 8 --iters 1 --warmup 0 --paths fp32)
    MODE="dry run on the CPU (tiny sizes, $ITERS iterations): these figures say only that the steps run"
else
    ITERS="${ITERS:-300}"
    GPU=0
    SIZE=()
    PRINT=10
    BENCH=(--device cuda --paths fp32,fast)
    MODE="$ITERS iterations per training row"
    "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' || {
        echo "gpu_check.sh: error: no CUDA device here; bash scripts/gpu_check.sh --dry-run runs the steps on the CPU" >&2
        exit 1
    }
fi

mkdir -p "$GPU_CHECK_DIR"
rm -f "$ROWS"
rm -rf "$CK"/gpu_fp32 "$CK"/gpu_bf16 "$CK"/gpu_fp16 "$CK"/gpu_ddp "$RES"/gpu_fp32
TRAIN=(--dataset_mode demo --dataroot "$DATAROOT" --checkpoints_dir "$CK" --gpu_ids "$GPU" --max_iters "$ITERS"
       --print_freq "$PRINT" --display_freq 1000000 --save_latest_freq 1000000 --no_tf_log --no_html --seed 0
       "${SIZE[@]}")
status=0
step() {  # step KIND LABEL ARGS...: one row of the table (a failure is a row too)
    echo "== $2"
    "${HELPER[@]}" "$1" "$ROWS" "$2" "${@:3}" || status=1
}
skip() {
    echo "== $1: skipped ($2)"
    "${HELPER[@]}" skip "$ROWS" "$1" "$2"
}

step train "demo fp32" -- "${TRAIN[@]}" --name gpu_fp32 --amp none
if [[ "$DRY" == 1 ]]; then
    skip "demo bf16" "dry run: fp32 only"
    skip "demo fp16" "dry run: fp32 only (fp16 needs CUDA)"
    skip "demo torchrun x1 (NCCL)" "dry run: NCCL needs CUDA"
else
    step train "demo bf16" -- "${TRAIN[@]}" --name gpu_bf16 --amp bf16 --channels_last
    step train "demo fp16" -- "${TRAIN[@]}" --name gpu_fp16 --amp fp16 --channels_last
    echo "== demo torchrun x1 (NCCL)"
    "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node 1 "$REPO_ROOT/scripts/gpu_check.py" train \
        "$ROWS" "demo torchrun x1 (NCCL)" -- "${TRAIN[@]}" --name gpu_ddp --amp none || status=1
fi
step test "test.py (demo fp32)" -- --name gpu_fp32 --checkpoints_dir "$CK" --dataroot "$DATAROOT" \
    --results_dir "$RES" --gpu_ids "$GPU" --nThreads 0
for convs in lookup dense; do
    step bench "benchmark, label convs $convs" -- --dataset coco --label_convs "$convs" --lbp_batch 0 "${BENCH[@]}"
done

"${HELPER[@]}" table "$ROWS" "$REPORT" --title "GPU check ($MODE), $(date +%Y-%m-%d)"
echo "table: $REPORT"
exit $status
