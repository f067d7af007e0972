"""The interfaces connectors and rules implement or consume.

The engine talks to chats (:mod:`hygiene.ports.chat`) and a helpdesk (:mod:`hygiene.ports.helpdesk`);
rules see only a :class:`RuleContext` (:mod:`hygiene.ports.rules`). Nothing here knows a platform.
"""

from hygiene.ports.chat import ChannelFetch, ChannelInfo, Chat
from hygiene.ports.helpdesk import ClientRecord, Helpdesk, SyncBatch, TicketDraft
from hygiene.ports.rules import RuleContext, TicketContext, TicketLookup

__all__ = [
    "ChannelFetch",
    "ChannelInfo",
    "Chat",
    "ClientRecord",
    "Helpdesk",
    "RuleContext",
    "SyncBatch",
    "TicketContext",
    "TicketDraft",
    "TicketLookup",
]
