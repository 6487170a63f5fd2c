"""The garbage collector of the product's processes.

A process that has set Django up holds a few hundred thousand long-lived objects (modules,
models, settings, the URL conf) that every full collection walks again. A run allocates
thousands of short-lived containers (requests, spans, events), so with the interpreter's
default threshold (700 net allocations) the youngest generation is collected several times
per run, and a run in flight is promoted and scanned again. Two changes, made once Django's
apps are ready: what is alive then is frozen out of collection (`gc.freeze`, as servers
that fork do), and the youngest generation is collected every `GC_GEN0_THRESHOLD` net
allocations. Reference counting frees most objects at once either way; only cycles wait
for the collector. `GC_GEN0_THRESHOLD=0` leaves the interpreter's defaults.
"""

from __future__ import annotations

import gc


def collector_tune(gen0_threshold: int) -> None:
    if gen0_threshold <= 0:
        return
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
