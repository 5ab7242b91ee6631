"""The log_node_churn concern (see its issue)."""
