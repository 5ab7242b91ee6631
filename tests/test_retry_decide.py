"""The decision table, the ledger entry format, error classification and the SDK's error behaviour."""

from __future__ import annotations

import types

import pytest
from retrying.batch_api import BatchApi, JobView
from retrying.calls import Caller, is_state_error, is_transient
from retrying.decide import Action, decide
from retrying.errors import ApiError
from retrying.ledger import Entry, job_resource
from retrying.timing import Deadline, Timing

from shared.invocation import Invocation
from tests.fakes.batch import BatchBackend, fake_batch_api
from tests.fakes.cmq import FakeClock
from tests.helpers import load_handler


def view(state="FAILED_INTERRUPTED", end_time="2026-11-20T08:36:00Z"):
    return JobView("job-1", state, end_time, "", ("render",))


@pytest.mark.parametrize("state", ["RUNNING", "STARTING", "SUCCEED", "SUBMITTED", ""])
def test_a_job_that_is_not_failed_is_skipped(state):
    assert decide(view(state), None, 3).action is Action.SKIP


@pytest.mark.parametrize("state", ["FAILED", "FAILED_INTERRUPTED"])
def test_a_first_failure_is_attempt_one(state):
    decision = decide(view(state), None, 3)
    assert (decision.action, decision.attempt) == (Action.RETRY, 1)


def test_the_failure_already_retried_is_a_duplicate():
    assert decide(view(), Entry(1, "done", "20261120083600"), 3).action is Action.DUPLICATE


def test_a_new_failure_is_the_next_attempt():
    decision = decide(view(), Entry(1, "done", "20261120080000"), 3)
    assert (decision.action, decision.attempt) == (Action.RETRY, 2)


def test_a_pending_attempt_is_finished_without_new_budget_even_when_spent():
    decision = decide(view("FAILED"), Entry(3, "pending", "20261120080000"), 3)
    assert (decision.action, decision.attempt, decision.resume) == (Action.RETRY, 3, True)


def test_budget_spent_is_exhausted():
    decision = decide(view(), Entry(3, "done", "20261120080000"), 3)
    assert decision.action is Action.EXHAUSTED and "exhausted" in decision.reason


def test_without_an_end_time_a_done_failure_is_never_retried_again():
    # GIVEN a failure Batch gives no end time for, after a retry was recorded
    # THEN it cannot be told apart from the one already retried: skipped, never a second retry
    decision = decide(view(end_time=""), Entry(1, "done", ""), 3)
    assert decision.action is Action.DUPLICATE and "no end time" in decision.reason


def test_zero_budget_never_retries():
    assert decide(view(), None, 0).action is Action.EXHAUSTED


@pytest.mark.parametrize("entry", [Entry(1, "done", "20261120083600"), Entry(12, "pending", "")])
def test_ledger_entries_round_trip_through_the_tag_value(entry):
    assert Entry.decode(entry.encode()) == entry


@pytest.mark.parametrize("value", ["", "x/done/1", "1/maybe/1", "1/done", "owner"])
def test_foreign_tag_values_are_no_entry(value):
    assert Entry.decode(value) is None


def test_job_resource_name_has_six_segments():
    assert (
        job_resource("ap-guangzhou", "100000000001", "job-1")
        == "qcs::batch:ap-guangzhou:uin/100000000001:job/job-1"
    )


@pytest.mark.parametrize(
    "code",
    [
        "RequestLimitExceeded",
        "RequestLimitExceeded.UinLimitExceeded",
        "InternalError",
        "InternalError.CallCvm",
        "ClientNetworkError",
        "ServerNetworkError",
        "JSONDecodeError",
    ],
)
def test_transient_codes(code):
    assert is_transient(code)


@pytest.mark.parametrize(
    "code", ["ResourceNotFound.Job", "AuthFailure.SecretIdNotFound", "UnsupportedOperation"]
)
def test_permanent_codes(code):
    assert not is_transient(code)


def test_state_errors():
    assert is_state_error("UnsupportedOperation") and is_state_error("ResourceInUse.Job")
    assert not is_state_error("ResourceNotFound.Job")


def _api(clock):
    from shared.cloud import batch_client

    invocation = Invocation(time_limit_ms=20000, clock=clock)
    deadline = Deadline(invocation, 3.0, Timing(clock=clock, sleep=clock.advance, random=lambda: 0.0))
    from tencentcloud.common import credential

    client = batch_client("ap-guangzhou", cred=credential.Credential("AKIDtest", "key"))
    return BatchApi(client, Caller(deadline))


def test_an_ok_answer_that_is_not_json_is_a_transient_error_through_the_real_client():
    # GIVEN a 200 answer with an HTML body (a proxy in the way), for good
    clock = FakeClock()
    backend = BatchBackend()
    api = _api(clock)
    with fake_batch_api(backend) as fake:
        fake.answer_with(200, "text/html", "<html>ok?</html>")
        # WHEN DescribeJob is called
        with pytest.raises(ApiError) as caught:
            api.describe_job("job-1")
    # THEN the client names the decoding error as the SDK does, which counts as transient, after
    # backing off on the fake clock
    assert caught.value.code == "JSONDecodeError" and caught.value.transient
    assert 0 < clock.now - 1000.0 < 17


def test_context_uin_is_read_from_a_dict_or_an_object():
    index = load_handler("retry_interrupted")
    assert index._account_uin({"tencentcloud_uin": "100000000001"}) == "100000000001"
    assert index._account_uin(types.SimpleNamespace(tencentcloud_uin=100000000001)) == "100000000001"
    assert index._account_uin(None) == "" and index._account_uin({"tencentcloud_uin": "x"}) == ""
