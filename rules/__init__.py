"""The one table of rule codes. A rule is a module named by its code, holding one class.

Codes HY900–HY999 are left for custom rules defined in the TOML (:mod:`rules.custom`).
"""

from __future__ import annotations

from hygiene.rulebase import Rule, TicketRule
from rules.charters import vocabularies
from rules.custom import CUSTOM_CODE, CustomSettings, custom_rule_class
from rules.HY101 import HY101
from rules.HY102 import HY102
from rules.HY103 import HY103
from rules.HY104 import HY104
from rules.HY105 import HY105
from rules.HY106 import HY106
from rules.HY201 import HY201
from rules.HY202 import HY202
from rules.HY203 import HY203
from rules.HY301 import HY301
from rules.HY302 import HY302
from rules.HY303 import HY303
from rules.HY304 import HY304
from rules.HY401 import HY401
from rules.HY402 import HY402
from rules.HY403 import HY403
from rules.phrases import unknown_phrase_keys

REGISTRY: dict[str, type[Rule] | type[TicketRule]] = {
    rule.code: rule
    for rule in (
        *(HY101, HY102, HY103, HY104, HY105, HY106),
        *(HY201, HY202, HY203),
        *(HY301, HY302, HY303, HY304),
        *(HY401, HY402, HY403),
    )
}

__all__ = ["CUSTOM_CODE", "REGISTRY", "CustomSettings", "custom_rule_class", "unknown_phrase_keys", "vocabularies"]
