"""A stateful fake of the Tencent Cloud CLS API (backend = state, routes = the HTTP layer)."""

from .backend import ClsBackend, ClsError, FakeTopic, scf_default_rule
from .routes import DEFAULT_ENDPOINT, check_shape, fake_cls_api, model_fields, register_cls

__all__ = [
    "DEFAULT_ENDPOINT",
    "ClsBackend",
    "ClsError",
    "FakeTopic",
    "check_shape",
    "fake_cls_api",
    "model_fields",
    "register_cls",
    "scf_default_rule",
]
