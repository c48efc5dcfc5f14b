"""(App, RuleSet, Platform) -> Report: capabilities, rule matching and the risk score. Pure."""

from permaudit.engine.evaluate import evaluate, evaluate_permissions

__all__ = ["evaluate", "evaluate_permissions"]
