"""The retry_interrupted concern: one decision per job, retries within the budget, nothing left billing."""

from __future__ import annotations

from collections import OrderedDict

from shared.concern import Concern, Outcome
from shared.errors import ConfigError
from shared.invocation import Invocation, scaled_margin_s
from shared.log import JsonLogger
from shared.models import ParsedInput

from . import timing as timing_module
from .batch_api import FAILED, FAILED_INTERRUPTED, RETRY_JOBS_LIMIT, BatchApi
from .calls import Caller, is_state_error
from .config import WAIT_MARGIN_S, RetryConfig, load_config
from .decide import Action, decide, declined
from .errors import ApiError
from .jobs import JobWork, group_jobs
from .ledger import DONE, PENDING, RELEASED, TERMINATING, Entry, Ledger, MemoryLedger, TagLedger
from .rules import evaluate
from .timing import Deadline, Timing

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Optional

POLL_INTERVAL_S = 2.0
RECHECK_AFTER_S = 2.0  # a DescribeJob older than this is asked again before TerminateJob
# States a job is in once someone has retried it (a terminating job stays FAILED_INTERRUPTED).
RUNNING_AGAIN = frozenset({"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"})
RESULTS = ("retried", "skipped", "exhausted", "declined", "failed", "would_retry")


def make_concern(uin: str = "", timing: Optional[Timing] = None) -> Concern:
    """The concern for shared.runtime.run; `uin` (from the SCF context) names job resources for tags."""

    def concern(parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
        return retry_interrupted(parsed, invocation, log, uin=uin, timing=timing)

    return concern


def retry_interrupted(
    parsed: ParsedInput,
    invocation: Invocation,
    log: JsonLogger,
    *,
    uin: str = "",
    timing: Optional[Timing] = None,
    config: Optional[RetryConfig] = None,
) -> Outcome:
    """Decide per (region, job id) and act; records a new delivery can help go in retry_records."""
    cfg = config or load_config()
    wanted = [e for e in parsed.known_events if e.name in cfg.events]
    works, unusable = group_jobs(wanted, invocation.region, cfg.max_attempts)
    for event in unusable:
        log.warning(
            "event names no usable job id or region; ignored",
            event_name=event.name_raw,
            job_id=event.job_id,
            region=event.region,
            msg_id=event.source.msg_id,
        )
    if works:
        _Run(cfg, invocation, log, uin, timing or timing_module.DEFAULT).run(works)
    return _outcome(works, len(unusable), cfg)


def _outcome(works: list[JobWork], unusable: int, cfg: RetryConfig) -> Outcome:
    summary: dict[str, Any] = {"jobs": len(works)}
    summary.update({name: sum(1 for w in works if w.result == name) for name in RESULTS})
    summary.update(terminated=sum(1 for w in works if w.terminated), unusable=unusable, dry_run=cfg.dry_run)
    again = [w for w in works if w.redeliver]
    records = frozenset(index for w in again for index in w.records)
    reason = ""
    if again:
        shown = "; ".join(f"{w.job_id}: {w.error_code or w.result}" for w in again[:5])
        reason = f"{len(again)} job(s) need a new delivery ({shown})"
    return Outcome(summary=summary, retry_records=records, retry_reason=reason)


class _Run:
    """One invocation's work: clients, ledger and deadline shared by every job."""

    def __init__(self, cfg: RetryConfig, invocation: Invocation, log: JsonLogger, uin: str, timing: Timing):
        self.cfg = cfg
        self.log = log
        margin = cfg.margin_s
        if margin is None:
            margin = scaled_margin_s(invocation.time_limit_ms, WAIT_MARGIN_S)
        self.deadline = Deadline(invocation, margin, timing)
        self.caller = Caller(self.deadline)
        self.ledger = self._ledger(uin)
        self._apis: dict[str, BatchApi] = {}

    def _api(self, region: str) -> BatchApi:
        if region not in self._apis:
            from shared.cloud import cached_client

            # Kept across invocations (one TLS connection per instance and region); every call cuts
            # its timeout to the time left (Caller).
            self._apis[region] = BatchApi(
                cached_client("batch", region, endpoint=self.cfg.endpoint), self.caller
            )
        return self._apis[region]

    def _ledger(self, uin: str) -> Ledger:
        if self.cfg.ledger == "memory":
            return MemoryLedger()
        account = self.cfg.account_uin or uin
        if not account:
            raise ConfigError(
                "RETRY_LEDGER=tags needs the account UIN to name job resources: SCF passes it in the "
                "context (tencentcloud_uin); set RETRY_ACCOUNT_UIN, or RETRY_LEDGER=memory for local runs"
            )
        from shared.cloud import cached_client

        def client_for(region: str) -> Any:
            return cached_client("tag", region)

        return TagLedger(client_for, self.caller, account, self.cfg.tag_key)

    def run(self, works: list[JobWork]) -> None:
        """Decide every job; FAILED jobs get RetryJobs (batches of 100 per region), FAILED_INTERRUPTED
        ones TerminateJob first, then RetryJobs once they are FAILED (RetryJobs is documented for
        FAILED jobs only)."""
        by_region: OrderedDict[str, list[JobWork]] = OrderedDict()
        for work in works:
            by_region.setdefault(work.region, []).append(work)
        for region, jobs in by_region.items():
            api = self._api(region)
            to_retry = [w for w in jobs if self._decide(api, w)]
            interrupted = [w for w in to_retry if w.view is not None and w.view.state == FAILED_INTERRUPTED]
            failed = [w for w in to_retry if w not in interrupted]
            # A FAILED job that Batch refuses may have become FAILED_INTERRUPTED meanwhile (or been
            # retried elsewhere): _refused describes it again and sends it down the terminate path.
            refused = self._retry(api, failed, terminate_if_refused=True)
            ready = self._terminate_and_wait(api, interrupted + refused)
            self._retry(api, ready, terminate_if_refused=False)
        for work in works:
            self._log_decision(work)

    def _decide(self, api: BatchApi, w: JobWork) -> bool:
        """Describe, consult the ledger and the rules; True when the job is to be retried now."""
        try:
            view = api.describe_job(w.job_id)
            w.view, w.state_found = view, view.state
            w.described_at = self.deadline.timing.clock()
            entry = self.ledger.read(w.region, w.job_id) if view.failed else None
            w.entry = entry
            decision = decide(view, entry, w.max_attempts)
            if decision.action is Action.RETRY and self.cfg.rules:
                verdict = evaluate(self.cfg.rules, api.failed_instances(w.job_id, view.failed_tasks))
                if not verdict.retry:
                    decision = declined(decision, verdict.reason)
        except ApiError as exc:
            self._failed(w, exc)
            return False
        w.decision = decision
        if decision.action in (Action.SKIP, Action.DUPLICATE):
            w.result = "skipped"
            return False
        if decision.action in (Action.EXHAUSTED, Action.DECLINED):
            w.result = decision.action.value
            self._no_more_retries(api, w)
            return False
        if self.cfg.dry_run:
            w.result = "would_retry"
            return False
        if decision.resume and entry is not None and entry.status == TERMINATING:
            return True  # TerminateJob was already accepted for this attempt: keep saying so
        try:
            # Written before acting: a crash between here and RetryJobs leaves `pending`, which the
            # next delivery finishes without spending budget, instead of an unrecorded retry.
            self.ledger.write(w.region, w.job_id, Entry(decision.attempt, PENDING, view.marker))
        except ApiError as exc:
            self._failed(w, exc, "the ledger could not record the attempt, so the job was not retried")
            return False
        return True

    def _no_more_retries(self, api: BatchApi, w: JobWork) -> None:
        """Budget spent or rules say exit: keep the instances, or terminate them with RETRY_ON_EXHAUSTED."""
        assert w.view is not None and w.decision is not None  # noqa: S101 - set by _decide
        reason = w.decision.reason
        if w.view.state != FAILED_INTERRUPTED:
            w.reason = f"{reason}; no instance is kept"
            return
        if not self.cfg.terminate_when_done:
            w.reason = f"{reason}; instances kept for inspection (RETRY_ON_EXHAUSTED=keep)"
            return
        if w.entry is not None and w.entry.status == RELEASED and w.entry.marker == w.view.marker:
            # Termination is asynchronous: the job stays FAILED_INTERRUPTED for a while, and every
            # delivery meanwhile would otherwise send TerminateJob again.
            w.reason = f"{reason}; TerminateJob was already sent for this job, waiting for it to end"
            return
        if self.cfg.dry_run:
            w.reason = f"{reason}; would terminate the job (dry run)"
            return
        try:
            api.terminate_job(w.job_id)
        except ApiError as exc:
            w.error_code = exc.code
            w.redeliver = exc.transient
            w.reason = f"{reason}; TerminateJob failed: {exc.code}: {exc.message}"
            return
        w.terminated = True
        w.reason = f"{reason}; job terminated so that no kept instance goes on billing"
        used = w.decision.attempt
        try:
            self.ledger.write(w.region, w.job_id, Entry(used, RELEASED, w.view.marker))
        except ApiError as exc:
            w.reason += (
                f"; the ledger could not record it ({exc.code}), so a later delivery may send it again"
            )

    def _retry(self, api: BatchApi, works: list[JobWork], *, terminate_if_refused: bool) -> list[JobWork]:
        """RetryJobs in batches of 100; a refused batch is retried job by job to find who refused."""
        refused: list[JobWork] = []
        for start in range(0, len(works), RETRY_JOBS_LIMIT):
            chunk = works[start : start + RETRY_JOBS_LIMIT]
            try:
                api.retry_jobs([w.job_id for w in chunk])
            except ApiError as exc:
                if exc.transient or len(chunk) == 1:
                    for w in chunk:
                        refused += self._refused(api, w, exc, terminate_if_refused)
                    continue
                for w in chunk:
                    try:
                        api.retry_jobs([w.job_id])
                    except ApiError as one:
                        refused += self._refused(api, w, one, terminate_if_refused)
                    else:
                        self._retried(w)
                continue
            for w in chunk:
                self._retried(w)
        return refused

    def _refused(self, api: BatchApi, w: JobWork, exc: ApiError, terminate_if_refused: bool) -> list[JobWork]:
        """A job RetryJobs did not take: to terminate first, already moved on, or failed.

        The job is described again before anything else: a refusal may mean another invocation (or
        our own call whose answer was lost) already retried it, and a running job must never be
        terminated.
        """
        if exc.transient or not is_state_error(exc.code):
            self._failed(w, exc)
            return []
        try:
            now = api.describe_job(w.job_id)
        except ApiError as again:
            self._failed(w, again)
            return []
        if terminate_if_refused and now.state == FAILED_INTERRUPTED:
            w.view = now
            w.reason = (
                f"RetryJobs refused ({exc.code}): the job is FAILED_INTERRUPTED now; TerminateJob first"
            )
            return [w]
        if now.failed:
            self._failed(w, exc)
            return []
        w.result = "skipped"
        w.reason = f"RetryJobs refused ({exc.code}) and the job is now {now.state}: it was retried elsewhere"
        self._record_done(w)
        return []

    def _retried(self, w: JobWork) -> None:
        w.result = "retried"
        self._record_done(w)

    def _record_done(self, w: JobWork) -> None:
        """Close the attempt in the ledger, so that a later failure is the next attempt, not a resume."""
        self._record(w, DONE)

    def _record(self, w: JobWork, status: str) -> None:
        """Write the attempt's new status; a failed write is noted, never raised (the action stands)."""
        assert w.view is not None and w.decision is not None  # noqa: S101 - set by _decide
        try:
            self.ledger.write(w.region, w.job_id, Entry(w.decision.attempt, status, w.view.marker))
        except ApiError as exc:
            # The job runs again either way; the next failure finishes this attempt instead of a new one.
            w.reason = "; ".join(
                filter(None, [w.reason, f"the ledger could not record {status} ({exc.code})"])
            )

    def _terminate_and_wait(self, api: BatchApi, works: list[JobWork]) -> list[JobWork]:
        """TerminateJob each (once per attempt), then poll until FAILED within the time left; the rest
        need a new delivery, which finds the ledger's `terminating` and only waits."""
        waiting: list[JobWork] = []
        for w in works:
            if w.entry is not None and w.entry.status == TERMINATING and w.decision and w.decision.resume:
                w.reason = w.reason or "TerminateJob was sent by an earlier delivery: waiting for FAILED"
                waiting.append(w)
                continue
            if not self._still_interrupted(api, w):
                continue
            try:
                api.terminate_job(w.job_id)
            except ApiError as exc:
                # A state error here most likely means a termination is already under way: wait for it.
                if exc.transient or not is_state_error(exc.code):
                    self._failed(w, exc)
                    continue
            w.terminated = True
            w.reason = w.reason or "FAILED_INTERRUPTED: TerminateJob, wait for FAILED, then RetryJobs"
            self._record(w, TERMINATING)
            waiting.append(w)
        ready: list[JobWork] = []
        while waiting:
            still: list[JobWork] = []
            for w in waiting:
                try:
                    view = api.describe_job(w.job_id)
                except ApiError as exc:
                    self._failed(w, exc)
                    continue
                if view.state == FAILED:
                    w.view = view
                    ready.append(w)
                elif view.state == "SUCCEED":
                    w.result, w.reason = "skipped", "the job succeeded after TerminateJob"
                    self._record_done(w)  # the attempt is over: the next failure is a new one
                elif view.state in RUNNING_AGAIN:
                    w.result = "skipped"
                    w.reason = f"the job is {view.state} while we waited: it was retried elsewhere"
                    self._record_done(w)
                else:
                    still.append(w)
            waiting = still
            if waiting and not self.deadline.sleep(POLL_INTERVAL_S):
                for w in waiting:
                    w.result, w.redeliver, w.error_code = "failed", True, "TerminateJobWaitTimedOut"
                    w.reason = (
                        "TerminateJob sent but the job did not reach FAILED in the time left; a new "
                        "delivery waits for it (without terminating again) and retries"
                    )
                break
        return ready

    def _still_interrupted(self, api: BatchApi, w: JobWork) -> bool:
        """Whether the job is still FAILED_INTERRUPTED, asked again when its DescribeJob is older than
        RECHECK_AFTER_S (many jobs, slow answers): TerminateJob must never reach a job that someone
        (or an overlapping run) retried meanwhile, which would kill its new run."""
        if self.deadline.timing.clock() - w.described_at < RECHECK_AFTER_S:
            return True
        try:
            now = api.describe_job(w.job_id)
        except ApiError as exc:
            self._failed(w, exc)
            return False
        w.described_at = self.deadline.timing.clock()
        if now.state == FAILED_INTERRUPTED:
            return True
        if now.state in RUNNING_AGAIN or now.state == "SUCCEED":
            w.result = "skipped"
            w.reason = f"the job is {now.state} now, before our TerminateJob: it was retried elsewhere"
            self._record_done(w)
        else:
            w.result, w.redeliver = "failed", True
            w.reason = (
                f"the job is {now.state or 'in no state'} now, not FAILED_INTERRUPTED: a new delivery decides"
            )
        return False

    def _failed(self, w: JobWork, exc: ApiError, why: str = "") -> None:
        w.result = "failed"
        w.error_code = exc.code
        w.redeliver = exc.transient
        kind = "transient: a new delivery retries" if exc.transient else "permanent: this job only"
        w.reason = f"{exc.action} failed: {exc.code}: {exc.message} ({kind})" + (f"; {why}" if why else "")

    def _log_decision(self, w: JobWork) -> None:
        """One line per job: job, state found, action, attempt n of m, reason."""
        decision = w.decision
        # A job that is not failed is skipped without reading the ledger: its attempt count is not known.
        known = decision is not None and decision.action is not Action.SKIP
        attempt = decision.attempt if decision is not None and known else None
        limit = decision.max_attempts if decision else w.max_attempts
        level = "WARNING" if w.result in ("failed", "exhausted", "declined") else "INFO"
        self.log.log(
            level,
            "retry budget exhausted" if w.result == "exhausted" else "retry decision",
            job_id=w.job_id,
            region=w.region,
            state=w.state_found or None,
            action=w.result,
            attempt=attempt,
            max_attempts=limit,
            attempt_of=f"{'-' if attempt is None else attempt} of {limit}",
            reason=w.reason or (decision.reason if decision else ""),
            resumed=bool(decision and decision.resume),
            terminated=w.terminated,
            error_code=w.error_code or None,
            records=sorted(w.records),
            events=sorted(w.event_names),
            dry_run=self.cfg.dry_run,
            warnings=w.warnings or None,
        )
