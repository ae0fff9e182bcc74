"""A baseline for the projection figure: a faust agent that takes the same batches off the
same topics as twinning's worker, through the same transport, and does nothing with them.

    python bench/faust_ceiling.py BOOTSTRAP TOPIC[,TOPIC...] PARTITIONS EVENTS DATA_DIR

Prints the events per second it consumed, from its first batch to its last, and the
microseconds of CPU per event it used meanwhile (all its threads). The gap between
this and a plain kafka-python consumer is faust's own cost per event; the gap between this
and the worker is the projection's.
"""

from __future__ import annotations

import os
import sys
import time

import faust
from twinning.streams import worker

#: faust's own batching (`take_events`), with the 5 ms window the worker used before it took
#: its batches as they are ready (`ReadyStream.take_ready`): the baseline is what faust
#: itself does at its best. (With `take_ready`, an agent that does nothing always catches up
#: with the queue and takes batches of a few events, which made this baseline about a third
#: slower: a weaker yardstick, not a faster worker.)
FAUST_WINDOW = 0.005


def main() -> None:
    bootstrap, topic_names, partitions, events, data_dir = sys.argv[1:6]
    expected = int(events)
    worker.use_uvloop()  # the worker's event loop
    app = faust.App(
        "bench-faust-ceiling",
        broker=[f"twinning://{bootstrap}"],
        datadir=data_dir,
        store="memory://",
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=int(partitions),
        consumer_auto_offset_reset="earliest",
        broker_commit_every=100,
        broker_commit_interval=0.5,
    )
    topic = app.topic(*topic_names.split(","), key_type=bytes, value_type=bytes)
    seen, started, cpu_started = 0, 0.0, 0.0

    @app.agent(topic)
    async def consume(stream: faust.StreamT[bytes]) -> None:
        nonlocal seen, started, cpu_started
        async for batch in stream.take_events(worker.BATCH_SIZE, within=FAUST_WINDOW):  # type: ignore[attr-defined]
            if not started:
                started, cpu_started = time.perf_counter(), time.process_time()
            seen += len(batch)
            if seen >= expected:
                rate = expected / (time.perf_counter() - started)
                cpu = 1e6 * (time.process_time() - cpu_started) / expected
                print(f"{rate:.0f} {cpu:.0f}", flush=True)
                os._exit(0)

    run = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
    run.spinner = None  # as in the worker (see streams/worker.py)
    sys.argv = [sys.argv[0], "worker"]
    run.execute_from_commandline()


if __name__ == "__main__":
    main()
