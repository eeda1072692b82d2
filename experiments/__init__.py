"""Experiments with seeds and error bars, each with a plan committed before its runs (experiments/plans.py).

    python scripts/experiment.py                       # the demo ablation: does each addition make texture more real?
    python scripts/experiment.py --dataset camvid --jobs 2 --records docs/camvid_experiment_runs   # real photos
    python scripts/experiment.py --dataset camvid_realism --jobs 2 --records docs/camvid_realism_runs
                                                       # realism ULBPGAN does not train on, against fair SPADEs
    python scripts/experiment.py --dataset camvid_realism --records docs/camvid_realism_runs --rescore [--rescore_val]
                                                       # score finished runs again from their kept images
                                                       # (--rescore_val alone: the val curves only)
    python scripts/experiment.py --iters 40 --seeds 0 --rows spade,ulbpgan \\
        --checkpoints_dir checkpoints/quick --out results/quick        # a quick look

Each row (experiments/rows.py) is trained with every seed on the same data with SPADE's schedule (constant, then
linear decay over the second half), scored every --eval_freq iterations on the first --num_val val scenes (train.py
--eval_freq) and, where the experiment has a final split, once at the end on it (test.py + evaluate.py). The value
of a run on val is the mean of its last --last evaluations. The tables give each row's mean and 95 % interval over
seeds (Student t), the differences paired by seed, the effect each comparison could detect with 80 % power, and
reference rows from the data alone.

Truthful about what it ran: each run records its settings (the whole train.py command) and is reported only when
they are this invocation's and its log reaches its iterations; a run made with other settings is refused with one
line, as are a dataset or segmenter made for other arguments. Resumable: a finished run is kept and not redone; an
interrupted one goes on from its latest.pth (saved every 100 iterations); the same command continues a stopped
experiment, on this machine or, with --records, on another.
Modules: plans (what each experiment is), rows, runs (training and records), statistics (pure functions), report
(tables), figures, references (the final split's renderings), rescore, cli.
"""
