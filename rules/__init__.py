"""The one table of rule codes. A rule is a module named by its code, holding one class."""

from __future__ import annotations

from hygiene.rulebase import Rule
from rules.HY101 import HY101
from rules.HY105 import HY105

REGISTRY: dict[str, type[Rule]] = {rule.code: rule for rule in (HY101, HY105)}

__all__ = ["REGISTRY"]
