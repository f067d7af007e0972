"""The interfaces connectors and rules implement or consume.

The engine talks to chats (:mod:`hygiene.ports.chat`) and a helpdesk (:mod:`hygiene.ports.helpdesk`);
rules see only a :class:`RuleContext` (:mod:`hygiene.ports.rules`). Nothing here knows a platform.
"""

from hygiene.ports.chat import (
    Capabilities,
    ChannelFetch,
    ChannelInfo,
    Chat,
    ChatSink,
    ChatSource,
    ContactDirectory,
    ReadWindow,
)
from hygiene.ports.helpdesk import ClientRecord, Helpdesk, SyncBatch, TicketDraft
from hygiene.ports.rules import RuleContext, TicketContext, TicketLookup

__all__ = [
    "Capabilities",
    "ChannelFetch",
    "ChannelInfo",
    "Chat",
    "ChatSink",
    "ChatSource",
    "ClientRecord",
    "ContactDirectory",
    "Helpdesk",
    "ReadWindow",
    "RuleContext",
    "SyncBatch",
    "TicketContext",
    "TicketDraft",
    "TicketLookup",
]
