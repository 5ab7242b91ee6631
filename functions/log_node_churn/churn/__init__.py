"""The log_node_churn concern: structured node lifecycle logs, churn figures, optional metrics.

Nothing here imports the Tencent Cloud SDK or `requests` at import time: only the metrics
path (CHURN_METRICS=1) does, when it sends.
"""

from .concern import log_node_churn
from .config import ChurnConfig, load_config
from .records import CHURN_SUMMARY, NODE_EVENT, is_churn_event, node_age_s, node_event_record
from .summary import Churn, EnvChurn

__all__ = [
    "CHURN_SUMMARY",
    "NODE_EVENT",
    "Churn",
    "ChurnConfig",
    "EnvChurn",
    "is_churn_event",
    "load_config",
    "log_node_churn",
    "node_age_s",
    "node_event_record",
]
