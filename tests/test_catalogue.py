from __future__ import annotations

import pytest

from shared.catalogue import (
    EVENT_GROUPS,
    Category,
    EventName,
    UnknownEventNameError,
    normalise_event_name,
    parse_event_names,
)


def test_catalogue_has_the_19_documented_names():
    assert len(EventName) == 19
    assert {e.category for e in EventName} == set(Category)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        (EventName.JOB_FAILED, Category.JOB),
        (EventName.TASK_FAILED_INTERRUPTED, Category.TASK),
        (EventName.TASK_INSTANCE_SUCCEED, Category.TASK_INSTANCE),
        (EventName.COMPUTE_ENV_DELETED, Category.COMPUTE_ENV),
        (EventName.COMPUTE_NODE_CREATION_FAILED, Category.COMPUTE_NODE),
    ],
)
def test_category_is_taken_from_the_longest_prefix(name, category):
    assert name.category is category


def test_failure_and_interrupted_flags():
    failures = {e for e in EventName if e.is_failure}
    assert len(failures) == 8
    assert EventName.COMPUTE_NODE_ABNORMAL in failures
    assert EventName.JOB_SUCCEED not in failures
    interrupted = {e for e in EventName if e.is_interrupted}
    assert interrupted == {
        EventName.JOB_FAILED_INTERRUPTED,
        EventName.TASK_FAILED_INTERRUPTED,
        EventName.TASK_INSTANCE_FAILED_INTERRUPTED,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JobFailed", EventName.JOB_FAILED),
        ("JobSucceed", EventName.JOB_SUCCEED),
        ("TaskInstanceFailedInterrupted", EventName.TASK_INSTANCE_FAILED_INTERRUPTED),
        ("ComputeNodeCreationFailed", EventName.COMPUTE_NODE_CREATION_FAILED),
        ("job_failed", EventName.JOB_FAILED),
        (" COMPUTE_NODE_ABNORMAL ", EventName.COMPUTE_NODE_ABNORMAL),
    ],
)
def test_old_and_loose_spellings_normalise_to_the_api_name(text, expected):
    assert normalise_event_name(text) is expected


def test_unknown_name_error_lists_the_valid_names():
    with pytest.raises(UnknownEventNameError) as info:
        normalise_event_name("JobExploded")
    assert "JobExploded" in str(info.value)
    assert "COMPUTE_NODE_DELETING" in str(info.value)


def test_groups_expand_and_mix_with_names():
    names = parse_event_names(["interrupted", "JOB_SUCCEED"])
    assert names == EVENT_GROUPS["interrupted"] | {EventName.JOB_SUCCEED}
    assert len(EVENT_GROUPS["nodes"]) == 5
