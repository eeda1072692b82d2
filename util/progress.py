"""The whole run's progress for train.py: iterations done of the run's total, and the time left.

The per-epoch bar shows one epoch; this is the estimate for the run: the mean iteration time
since this process started training (so a resumed run does not count the earlier process's
speed, nor a compile warm-up it did not pay) times the iterations still to go.
"""
import time


def total_iterations(epochs, batches_per_epoch, max_iters=None):
    """Iterations of the whole run: epochs × batches per epoch, or --max_iters when smaller."""
    total = epochs * batches_per_epoch
    return total if max_iters is None else min(total, max_iters)


def eta_seconds(done, total, start_done, elapsed):
    """Seconds left: (total - done) × the mean time of the done - start_done iterations this process
    ran in `elapsed` seconds; None before it ran one."""
    ran = done - start_done
    if ran <= 0 or elapsed <= 0:
        return None
    return max(total - done, 0) * elapsed / ran


def format_duration(seconds):
    """3725 -> '1:02:05', 65 -> '1:05', None -> '?'."""
    if seconds is None:
        return '?'
    s = int(round(seconds))
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m}:{s:02d}'


class RunProgress:
    """RunProgress(total, done_so_far); .text(done) -> '120/1000, ETA 12:34'."""

    def __init__(self, total, done, clock=time.monotonic):
        self.total, self.start_done, self.clock = total, done, clock
        self.start = clock()

    def eta(self, done):
        return eta_seconds(done, self.total, self.start_done, self.clock() - self.start)

    def fields(self, done):
        """{'run': '120/1000', 'ETA': '12:34'}: for the bar's postfix."""
        return {'run': f'{done}/{self.total}', 'ETA': format_duration(self.eta(done))}

    def text(self, done):
        f = self.fields(done)
        return f"{f['run']}, ETA {f['ETA']}"
