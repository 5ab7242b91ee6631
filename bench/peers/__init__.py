"""log_node_churn's peers for the throughput target: the same work written by hand, and with a pydantic
model. Never deployed (tools/package.py copies functions/ and shared/ only); pydantic's pin is in
requirements-bench.txt."""
