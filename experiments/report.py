"""An experiment's tables and text: each row's mean ± 95 % interval over seeds, differences paired by seed with
the effect they could detect, the final split's scores, per-class differences and the convergence of the curves."""
import collections
import os
import time

import numpy as np

from evaluation import texture
from evaluation.metrics import all_metrics, derived
from evaluation.table import REFERENCE_LABELS
from experiments import statistics as st
from experiments.figures import curve
from experiments.plans import EXPERIMENTS
from experiments.rows import ROWS
from util.jsonfile import read_json
from util.machine import summary

METRICS = all_metrics()
# the columns: every metric marked for tables, with the Jensen–Shannon distance and --eval_freq's segmenter FID/KID
VAL_KEYS = [k for k, m in METRICS.items() if (m.table or k in ('texture_sqrt_js', 'fid_seg', 'kid_seg'))
            and k != 'texture_position']  # (the position has a column of its own)
FINAL_KEYS = VAL_KEYS


def cell(values, key):
    """'mean ± half-width' of a metric over seeds, as its table shows it; 'n/a' when a value is missing."""
    if not values or any(v is None for v in values):
        return 'n/a'
    m = METRICS[key]
    mean, half = st.interval(np.asarray(values) * m.scale)
    return f'{mean:.{m.digits}f}' if half is None else f'{mean:.{m.digits}f} ± {half:.{m.digits}f}'


def present(keys, value_sets):
    """The keys some value set holds a number for: a table leaves out the columns nobody measured."""
    return [k for k in keys if any(v.get(k) is not None for v in value_sets)]


def references(runs):
    """eval_references.json of the first run (the texture references come from the data alone: the same for every
    run), with the segmenter's mIoU on the real images as every run saw it: a segmenter trained again (same data,
    same recipe, not bit-for-bit repeatable) gives a slightly different ceiling."""
    found = [read_json(os.path.join(r['folder'], 'eval_references.json'), {}) for by_seed in runs.values()
             for r in by_seed.values()]
    ceilings = sorted({round(f['real_images']['miou'] * 100, 2) for f in found if 'real_images' in f})
    return {**found[0], 'segmenter_ceilings': ceilings}


def segmenter_note(refs):
    ceilings = refs.get('segmenter_ceilings', [])
    if len(ceilings) < 2:
        return ''
    return (f"\nThe small segmenter was trained more than once (same data and recipe): its mIoU on the real val "
            f"images is {', '.join(f'{c:.2f}' for c in ceilings)} across the runs (the reference row gives the first "
            f"run's), so the secondary metrics of runs scored by different segmenters differ by that much too; "
            f"the texture metric does not use it.\n")


def share(value, texture_refs):
    """'51 %': where a texture JS lies from texture-free (0 %) to real (100 %); '' when it cannot be placed."""
    p = texture.position(value, texture_refs) if texture_refs else None
    return '' if p is None else f'{p * 100:.0f} %'


def values_table(title, by_row, keys, texture_refs, extra_rows=()):
    """Rows of mean ± CI over seeds (by_row: {row: [values dict per seed]}) and the texture references."""
    lines = [f"| {title} | seeds | {' | '.join(METRICS[k].label for k in keys)} | texture: texture-free 0 % → real 100 % |",
             '|' + ' --- |' * (len(keys) + 3)]
    for row, values in by_row.items():
        lines.append(f"| {ROWS[row][0]} | {len(values)} | " + ' | '.join(cell([v.get(k) for v in values], k) for k in keys)
                     + f" | {share(np.mean([v['texture_js'] for v in values]), texture_refs)} |")
    for name, v in (texture_refs or {}).items():
        v = derived(v)
        cells = [cell([v[k]], k) if v.get(k) is not None else '' for k in keys]
        lines.append(f"| {REFERENCE_LABELS[name]} | | {' | '.join(cells)} | {share(v['texture_js'], texture_refs)} |")
    return '\n'.join(lines + list(extra_rows))


def comparisons(rows, primary):
    """(row, other, label) of the primary comparisons and of every other row against SPADE."""
    pairs = primary + [(row, 'spade') for row in rows if row != 'spade' and (row, 'spade') not in primary]
    return [(row, other, f"{ROWS[row][0]} − {ROWS[other][0]}" + (' (primary)' if (row, other) in primary else ''))
            for row, other in pairs if row in rows and other in rows]


def diff_tables(by_row, keys, primary, span_key='texture_js', span=None, suffix=''):
    """The paired differences of each comparison (by_row: {row: {seed: values}}) and, below, the difference each
    could detect with 80 % power (and the seeds `span` would need, for span_key)."""
    head = f"| difference, paired by seed | seeds | {' | '.join(METRICS[k].label for k in keys)} |"
    lines = [head, '|' + ' --- |' * (len(keys) + 2)]
    needs = f" seeds needed for {span:.3f} in {METRICS[span_key].label} |" if span else ''
    power = [f"| difference detectable with 80 % power (paired t, 5 %) | seeds | "
             f"{' | '.join(METRICS[k].label for k in keys)} |{needs}", '|' + ' --- |' * (len(keys) + 2 + bool(span))]
    for row, other, label in comparisons(list(by_row), primary):
        d = {k: st.paired(by_row[row], by_row[other], k) for k in keys}
        seeds = len(d[keys[0]])
        if not seeds:
            continue
        lines.append(f"| {label}{suffix} | {seeds} | " + ' | '.join(cell(list(d[k].values()), k) for k in keys) + ' |')
        if seeds > 1:
            sd = {k: None if None in d[k].values() else float(np.std(list(d[k].values()), ddof=1)) * METRICS[k].scale
                  for k in keys}
            cells = ['n/a' if sd[k] is None else f"{st.detectable(sd[k], seeds):.{METRICS[k].digits}f}" for k in keys]
            more = ''
            if span and sd.get(span_key) is not None:
                needed = st.seeds_needed(sd[span_key], span)
                more = f" {'> 200' if needed is None else needed} |"
            power.append(f"| {label} | {seeds} | {' | '.join(cells)} |{more}")
    return '\n'.join(lines), '\n'.join(power)


def per_class_table(by_row, primary, class_names, keys=('colour_js', 'gradient_js', 'texture_js')):
    """Per class: the primary comparison's difference, paired by seed, of each per-class divergence
    (by_row: {row: {seed: {'texture': {...}, 'histograms': {...}}}}, evaluate.py's per-class values)."""
    row, other = primary[0]
    if row not in by_row or other not in by_row:
        return ''
    seeds = [s for s in by_row[row] if s in by_row[other]]
    source = {'texture_js': ('texture', 'js'), 'colour_js': ('histograms', 'colour_js'),
              'gradient_js': ('histograms', 'gradient_js')}

    def value(pc, key, c):
        group, name = source[key]
        return ((pc.get(group) or {}).get(str(c)) or {}).get(name)
    classes = sorted({int(c) for s in seeds for c in (by_row[row][s].get('histograms') or {})})
    if not classes:
        return ''
    lines = [f"| class ({ROWS[row][0]} − {ROWS[other][0]}, paired over {len(seeds)} seeds) | "
             + ' | '.join(METRICS[k].label for k in keys) + ' |', '|' + ' --- |' * (len(keys) + 1)]
    for c in (c for c in classes if c < len(class_names)):  # not don't care: never scored
        cells = [cell([st.minus(value(by_row[row][s], k, c), value(by_row[other][s], k, c)) for s in seeds], k)
                 for k in keys]
        lines.append(f"| {class_names[c]} | {' | '.join(cells)} |")
    return '\n'.join(lines)


def convergence(runs, keys=('texture_js', 'colour_js', 'gradient_js', 'c2st')):
    """Per row and measure on the val curves: the final value (mean over seeds), the change per 1000 iterations over
    the last third (near 0: flat), and for each other row the first iteration from which this row stays at least as
    good as that row's final value."""
    curves = {}
    for row, by_seed in runs.items():
        for k in keys:
            its, v = curve([r['log'] for r in by_seed.values()], k)
            if len(its) > 2:
                curves[row, k] = (its, list(np.mean(v, 0)))
    lines = ['| measure | row | final (mean of seeds) | change per 1000 its, last third | reaches the final value of |',
             '| --- | --- | --- | --- | --- |']
    for k in keys:
        for row in runs:
            if (row, k) not in curves:
                continue
            its, v = curves[row, k]
            reach = []
            for other in runs:
                if other != row and (other, k) in curves:
                    at = st.reaches(its, v, curves[other, k][1][-1], not METRICS[k].higher_is_better)
                    reach.append(f"{ROWS[other][0]}: {'never' if at is None else f'it. {int(at)}'}")
            lines.append(f"| {METRICS[k].label} | {ROWS[row][0]} | {v[-1]:.3f} | {st.late_slope(its, v):+.3f} | "
                         f"{'; '.join(reach)} |")
    return '\n'.join(lines)


def texture_regime(runs, refs):
    """When each row's texture appears: the first evaluation whose texture JS (mean over seeds) is at most half
    the texture-free reference's."""
    half = refs['texture']['texture_free']['texture_js'] / 2
    lines = []
    for row, by_seed in runs.items():
        logs = [r['log'] for r in by_seed.values()]
        length = min(len(log) for log in logs)
        mean = [(logs[0][i]['iteration'], np.mean([log[i]['texture_js'] for log in logs])) for i in range(length)]
        first = next((int(it) for it, v in mean if v <= half), None)
        lines.append(f"- {ROWS[row][0]}: texture JS at most half the texture-free {2 * half:.3f} "
                     + (f"from iteration {first}" if first else "at no evaluation")
                     + f"; by iteration: {', '.join(f'{int(it)}: {v:.3f}' for it, v in mean)}")
    return '\n'.join(lines)


def header(args, runs, plan_text):
    seconds = sum(r['seconds'] for by_seed in runs.values() for r in by_seed.values())
    wall = read_json(os.path.join(args.out, 'wall_seconds.json'))
    made = collections.Counter(r['machine'] for by_seed in runs.values() for r in by_seed.values())
    plan = plan_text if args.planned else \
        "Not the pre-registered experiment (its --rows, --iters, --eval_freq or --last differ from the plan)."
    return (f"{plan}\n\n{args.dataset} experiment (reported {time.strftime('%Y-%m-%d')} on {summary()}): {args.iters} "
            f"iterations of batch 4 per run, seeds {','.join(map(str, args.seeds))} planned, {args.num_val} val scenes "
            f"scored every {args.eval_freq} iterations, a run's value the mean of its last {args.last} evaluations; "
            f"training + evaluation time of the runs {seconds / 60:.0f} min"
            f"{'' if wall is None else f', wall time on this machine {sum(wall.values()) / 60:.0f} min'}"
            + ('' if len(made) < 2 else f"; runs made on: {'; '.join(f'{n} on {m}' for m, n in made.items())}")
            + ".\nmIoU and acc in %, KID ×10³; mean ± 95 % CI over seeds (Student t); √JS is the square root of the JS "
              "summary (the Jensen–Shannon distance).\n")


def final_by_row(runs):
    """{row: {seed: final-split values}} of the runs scored on the final split."""
    scored = {row: {s: derived(r['final']) for s, r in by_seed.items() if r['final']} for row, by_seed in runs.items()}
    return {row: by_seed for row, by_seed in scored.items() if by_seed}


def final_section(args, runs, ceiling):
    scored = final_by_row(runs)
    if not scored:
        return ''
    keys = present(FINAL_KEYS, [v for by_seed in scored.values() for v in by_seed.values()])
    refs = next(iter(next(iter(scored.values())).values()))['texture_references']
    extra = []
    if ceiling:
        extra.append("| reference: real photos (segmenter ceiling) | | " + ' | '.join(
            cell([ceiling[k]], k) if k in ('miou', 'accuracy') else '' for k in keys) + ' | |')
    table = values_table(f"{EXPERIMENTS[args.dataset]['final']} split", {r: list(v.values()) for r, v in scored.items()},
                         keys, refs, extra)
    diffs, power = diff_tables(scored, keys, EXPERIMENTS[args.dataset]['primary'], suffix=', paired')
    spread = [f"- {ROWS[row][0]}: " + ', '.join(f"{v['c2st_std']:.3f}" for v in by_seed.values())
              for row, by_seed in scored.items() if all(v.get('c2st_std') is not None for v in by_seed.values())]
    spread = ("\nThe C2ST's standard deviation over its classifier seeds, run by run:\n" + '\n'.join(spread) + '\n'
              if spread else '')
    return (f"\nScored at the end on the whole {EXPERIMENTS[args.dataset]['final']} split (test.py + evaluate.py, "
            f"small segmenter):\n\n{table}\n\n{diffs}\n\n{power}\n{spread}")
