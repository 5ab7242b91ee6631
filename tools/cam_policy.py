"""Print the least-privilege CAM policy for the functions' execution role, from tools/deploy_config.py.

    python -m tools.cam_policy --region ap-guangzhou --uin 100000000001 --topic batch-events
    python -m tools.cam_policy ... --delivery http --feature ALERT_ENRICH --feature RETRY_RULES
    make policy REGION=ap-guangzhou UIN=100000000001 TOPIC=batch-events

Only the actions the code can call on the chosen delivery path with the chosen optional features,
on the narrowest resource CAM allows for each: Batch jobs of the region and account, the functions'
own queues. Paste the output as a custom policy (CAM console: Policies, Create Custom Policy, Create
by Policy Syntax) and attach it to the role named in EXECUTION_ROLE (role entity scf.qcloud.com).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional, Sequence

from tools.deploy_config import (
    CLOUD_CALLS,
    DEFAULT_DELIVERY,
    DELIVERIES,
    FUNCTIONS,
    CloudCall,
    queue_name,
)

# The optional features that add calls; RETRY_LEDGER=tags is the default, so it is on unless
# --no-tag-ledger says the deployment sets RETRY_LEDGER=memory.
FEATURES = ("ALERT_ENRICH", "ALERT_RECOVERY", "RETRY_RULES")


class PolicyError(ValueError):
    """Arguments that cannot name the resources."""


def calls_for(delivery: str, features: Sequence[str] = (), tag_ledger: bool = True) -> list[CloudCall]:
    """The calls the code can make on this path with these features."""
    if delivery not in DELIVERIES:
        raise PolicyError(f"delivery {delivery!r} is not one of {', '.join(DELIVERIES)}")
    unknown = sorted(set(features) - set(FEATURES))
    if unknown:
        raise PolicyError(f"unknown feature(s) {', '.join(unknown)}: choose from {', '.join(FEATURES)}")
    on = set(features) | {f"delivery={delivery}"} | ({"RETRY_LEDGER=tags"} if tag_ledger else set())
    return [call for call in CLOUD_CALLS if not call.feature or call.feature in on]


def _resources(call: CloudCall, region: str, uin: str, topic: str) -> list[str]:
    spec = next(s for s in FUNCTIONS if s.name == call.function)
    queue = queue_name(topic, spec)
    return [template.format(region=region, uin=uin, queue=queue) for template in call.resource.split("|")]


def policy(
    region: str,
    uin: str,
    topic: str,
    delivery: str = DEFAULT_DELIVERY,
    features: Sequence[str] = (),
    *,
    tag_ledger: bool = True,
) -> dict[str, Any]:
    """The CAM policy document (version 2.0): one statement per resource set, actions sorted."""
    if not uin.isdigit():
        raise PolicyError(f"--uin {uin!r} is not an account UIN (digits only)")
    if not region or not region.replace("-", "").isalnum():
        raise PolicyError(f"--region {region!r} is not a region name such as ap-guangzhou")
    if not topic:
        raise PolicyError("--topic is required: the queues are named after it")
    # The three functions share one execution role: each action gets the union of its resources,
    # then actions with the same resources share a statement.
    per_action: dict[str, set[str]] = {}
    for call in calls_for(delivery, features, tag_ledger):
        per_action.setdefault(f"name/{call.service}:{call.action}", set()).update(
            _resources(call, region, uin, topic)
        )
    by_resources: dict[tuple[str, ...], set[str]] = {}
    for action, resources in per_action.items():
        by_resources.setdefault(tuple(sorted(resources)), set()).add(action)
    statements = [
        {"effect": "allow", "action": sorted(actions), "resource": list(resources)}
        for resources, actions in sorted(by_resources.items(), key=lambda item: sorted(item[1]))
    ]
    return {"version": "2.0", "statement": statements}


def actions_in(document: dict[str, Any]) -> set[str]:
    """Every `service:Action` a policy document allows."""
    return {
        action.removeprefix("name/") for statement in document["statement"] for action in statement["action"]
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: print the policy as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--region", required=True, help="the functions' region, e.g. ap-guangzhou")
    parser.add_argument("--uin", required=True, help="the account UIN (the owner's, not a sub-account's)")
    parser.add_argument("--topic", required=True, help="the Batch topic (queue names derive from it)")
    parser.add_argument("--delivery", choices=DELIVERIES, default=DEFAULT_DELIVERY)
    parser.add_argument("--feature", action="append", default=[], choices=FEATURES)
    parser.add_argument(
        "--no-tag-ledger", action="store_true", help="the deployment sets RETRY_LEDGER=memory (no Tag API)"
    )
    args = parser.parse_args(argv)
    try:
        document = policy(
            args.region, args.uin, args.topic, args.delivery, args.feature, tag_ledger=not args.no_tag_ledger
        )
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
