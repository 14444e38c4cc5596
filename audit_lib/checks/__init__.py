"""The check catalogue: registry, the four families, and the engine that runs them.

Importing this package registers the built-in checks (RC01-RC07, CP01-CP12, EL01-EL07, ST01-ST04).
"""
from . import compliance, eligibility, reconciliation, statistics  # noqa: F401  (registration at import)
from .context import Context
from .registry import REGISTRY, Check, Param, Registry, Result, check, keyed

REGISTRY.mark_builtin()

__all__ = ["REGISTRY", "Check", "Context", "Param", "Registry", "Result", "check", "keyed"]
