"""The log_node_churn concern: structured node lifecycle logs and churn figures.

Nothing here imports the Tencent Cloud SDK or `requests`: the figures are log lines, which CLS
indexes, charts and alarms on (tools/setup_cls.py).
"""

from .concern import log_node_churn
from .records import CHURN_SUMMARY, NODE_EVENT, is_churn_event, node_age_s, node_event_record
from .summary import Churn, EnvChurn

__all__ = [
    "CHURN_SUMMARY",
    "NODE_EVENT",
    "Churn",
    "EnvChurn",
    "is_churn_event",
    "log_node_churn",
    "node_age_s",
    "node_event_record",
]
