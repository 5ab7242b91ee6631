"""The default (queue) path: publish-to-send latency and what the timer runs bill.

Latency is simulated on the fake queue (tests/fakes/cmq's CmqBackend on a fake clock): messages are
published at seeded random times, the timer fires every `period_s` on the clock's whole multiples (SCF's
cron `*/10 * * * * * *`), and each tick that finds messages runs the real handler against the fake
queue API over loopback. A message is sent when the run that received it has handled it: the tick (or,
with a long poll, the moment the first message arrived during it) plus that run's measured time.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

from tests.fakes.cmq import CmqBackend, FakeClock
from tools.deploy_config import POLL_TIMEOUT_S, VISIBILITY_FACTOR

from .scenarios import TIMER_EVENT, Services, context, message_body, patched_env, queue_name, quiet

# Handles what the queue holds now, as one timer run; returns how long the run took (seconds).
Runner = Callable[[CmqBackend, str], float]


@dataclass(frozen=True)
class Schedule:
    """When the timer runs, and how long its first receive long-polls an empty queue."""

    period_s: float
    wait_s: float = 0.0


def arrivals(
    seed: int, count: int, window_s: float, *, bursts: int = 0, burst_size: int = 0, burst_s: float = 2.0
) -> list[float]:
    """`count` publish times uniform over the window, plus `bursts` bursts of `burst_size` messages
    within `burst_s` each (a job array failing at once); sorted, reproducible from the seed."""
    rng = random.Random(seed)
    times = [rng.uniform(0, window_s) for _ in range(count)]
    for _ in range(bursts):
        start = rng.uniform(0, window_s - burst_s)
        times += [start + rng.uniform(0, burst_s) for _ in range(burst_size)]
    return sorted(times)


def _visible(backend: CmqBackend, queue: str) -> list[str]:
    now = backend.clock()
    return [m.msg_id for m in backend.queues[queue].messages if m.visible_at <= now]


def simulate(
    publish: Sequence[float],
    schedule: Schedule,
    runner: Runner,
    *,
    body: Callable[[int], str] = lambda n: json.dumps({"Events": [{"n": n}]}),
    queue: str = "bench-queue",
    visibility_s: float = VISIBILITY_FACTOR * POLL_TIMEOUT_S,
    max_ticks: int = 10_000_000,
) -> list[float]:
    """Publish-to-send delay of each message (in the order of `publish`), over the timer schedule.

    Messages published at or before a tick are received by its run; with `schedule.wait_s`, a run that
    finds the queue empty catches a message published within that long poll, at its publish time.
    A message the run leaves in the queue (past its cap, or failed) waits for a later tick.
    """
    clock = FakeClock(start=0.0)
    backend = CmqBackend(clock=clock, receive_cost_s=0.0)
    backend.create_queue(queue, visibility_timeout=int(visibility_s))
    order = sorted(range(len(publish)), key=lambda i: publish[i])
    index_of: dict[str, int] = {}
    delays: list[Optional[float]] = [None] * len(publish)
    period = schedule.period_s
    sent = 0

    def publish_until(moment: float) -> None:
        nonlocal sent
        while sent < len(order) and publish[order[sent]] <= moment:
            i = order[sent]
            clock.now = max(clock.now, publish[i])
            index_of[backend.send(queue, body(i))] = i
            sent += 1

    tick = 0.0
    for _ in range(max_ticks):
        if all(d is not None for d in delays):
            return [d for d in delays if d is not None]
        if sent < len(order) and not backend.queues[queue].messages:
            # Nothing waiting: jump to the first tick whose run can see the next publication.
            ahead = math.ceil((publish[order[sent]] - schedule.wait_s) / period) * period
            tick = max(tick, ahead)
        publish_until(tick)
        start = tick
        if schedule.wait_s and not _visible(backend, queue) and sent < len(order):
            first = publish[order[sent]]
            if first <= tick + schedule.wait_s:
                start = first
                publish_until(start)
        clock.now = max(clock.now, start)
        waiting = _visible(backend, queue)
        if waiting:
            elapsed = runner(backend, queue)
            left = {m.msg_id for m in backend.queues[queue].messages}
            for msg_id in waiting:
                if msg_id not in left:
                    delays[index_of[msg_id]] = start + elapsed - publish[index_of[msg_id]]
        tick += period
    raise RuntimeError("the simulation did not deliver every message (a message is never deleted?)")


# --- the real runs ------------------------------------------------------------------------------


def handler_runner(svc: Services, handler: Any, function: str, memory_mb: int) -> Runner:
    """One real timer run of the handler against whatever backend the simulation hands it."""
    timer = json.loads(TIMER_EVENT.read_text())
    ctx = context(function, memory_mb)

    def run(backend: CmqBackend, queue: str) -> float:
        if queue != queue_name(function):
            raise ValueError(f"{function} polls {queue_name(function)}, not {queue}")
        svc.queue = backend
        if function == "retry_interrupted":
            svc.new_batch()
        with patched_env(svc.env(function, "queue")), quiet():
            start = time.perf_counter()
            handler.main_handler(timer, ctx)
            return time.perf_counter() - start

    return run


def timed_runs(
    svc: Services, handler: Any, function: str, memory_mb: int, *, messages: int, repeat: int
) -> list[float]:
    """Run times (seconds) of `repeat` timer runs each finding `messages` messages (0: idle), warm."""
    run = handler_runner(svc, handler, function, memory_mb)
    bodies = tuple(message_body(function, n) for n in range(messages))
    samples = []
    for attempt in range(repeat + 3):  # three warm-up runs first
        backend = svc.new_queue(function, bodies)
        if function == "retry_interrupted":
            import retrying

            retrying.reset_memory_ledger()
        elapsed = run(backend, queue_name(function))
        if backend.queues[queue_name(function)].messages:
            raise RuntimeError(f"{function}: a timer run left messages in the queue")
        if attempt >= 3:
            samples.append(elapsed)
    return samples


def latency(
    svc: Services, handler: Any, memory_mb: int, publish: Sequence[float], schedule: Schedule
) -> list[float]:
    """alert_failures' publish-to-send delays: each event ends in a WeCom robot message."""
    function = "alert_failures"
    runner = handler_runner(svc, handler, function, memory_mb)
    return simulate(
        publish,
        schedule,
        runner,
        body=lambda n: message_body(function, n),
        queue=queue_name(function),
    )
