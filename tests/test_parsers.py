"""What the fuzzers found in the connectors' parsers, pinned: odd shapes give clear errors, never loops."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.chat.slack.messages import MalformedMessage, to_chat_message
from connectors.helpdesk.gclick import STATUS, GClickHelpdesk, to_ticket
from connectors.helpdesk.zendesk import ZendeskHelpdesk
from hygiene.errors import ExternalError
from hygiene.ports import ChannelInfo


class Answers:
    """Answers requests in order, then repeats the last answer (a server ignoring paging)."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies, self.calls = list(bodies), 0

    def request(self, method: str, path: str, **_: Any) -> Any:
        self.calls += 1
        assert self.calls < 50, "still paging: a loop"
        return self.bodies[min(self.calls - 1, len(self.bodies) - 1)]


def gclick(*bodies: Any) -> GClickHelpdesk:
    helpdesk = GClickHelpdesk("https://gclick.invalid", "id", "secret", today=lambda: date(2026, 11, 18))
    helpdesk.http = Answers(*bodies)  # type: ignore[assignment]
    return helpdesk


def zendesk(*bodies: Any) -> ZendeskHelpdesk:
    helpdesk = ZendeskHelpdesk("https://z.invalid", "a@b.c", "t", now=lambda: datetime(2026, 11, 18, tzinfo=UTC))
    helpdesk.http = Answers(*bodies)  # type: ignore[assignment]
    return helpdesk


def test_gclick_stops_when_the_server_repeats_a_page() -> None:
    page = {"content": [{"id": 1, "nome": "Padaria"}], "last": False, "totalPages": 99}
    assert gclick(page).clients() == ["Padaria"]


def test_gclick_reads_a_page_count_that_is_not_a_number_as_one_page() -> None:
    page = {"content": [{"id": 1, "nome": "Padaria"}], "last": False, "totalPages": ["2"]}
    assert gclick(page, {"content": [{"id": 2, "nome": "Ótica"}]}).clients() == ["Padaria"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "malformed task: expected an object with an 'id'"),
        ({"status": "A"}, "malformed task: expected an object with an 'id'"),
        ({"id": 7, "status": "A", "dataAcao": [1]}, "task 7: malformed created_at"),
    ],
)
def test_gclick_malformed_tasks_are_clear_errors(raw: Any, message: str) -> None:
    with pytest.raises(ExternalError, match=message):
        to_ticket(raw, [], [], STATUS)


def test_gclick_odd_nested_shapes_read_as_absent() -> None:
    raw = {"id": 7, "status": "A", "nome": "x", "departamento": "Fiscal", "cliente": [1], "obrigacao": 3}
    ticket = to_ticket(raw, [None, "owner"], [{"respondidaEm": None}, 5], STATUS)  # type: ignore[list-item]
    assert (ticket.department, ticket.client, ticket.assignee) == (None, None, None)


def test_zendesk_stops_when_the_cursor_does_not_move() -> None:
    body = {"tickets": [], "after_cursor": "same", "end_of_stream": False}
    helpdesk = zendesk(body)
    assert helpdesk.sync({"cursor": "same"}).tickets == []
    assert helpdesk.http.calls == 1  # type: ignore[attr-defined]


def test_zendesk_ignores_malformed_sideloads_and_names_malformed_tickets() -> None:
    body = {
        "tickets": [{"id": 1, "status": "open", "subject": "x", "assignee_id": [1], "organization_id": {}}],
        "users": "nope",
        "organizations": [{"id": {}}, 3],
        "metric_sets": [{"ticket_id": []}],
        "end_of_stream": True,
    }
    assert [t.id for t in zendesk(body, {"organizations": []}).sync({}).tickets] == ["1"]
    bad = {"tickets": [{"id": 2, "status": "open", "created_at": {"x": 1}}], "end_of_stream": True}
    with pytest.raises(ExternalError, match="ticket 2: malformed created_at"):
        zendesk(bad).sync({})


def test_zendesk_organization_pages_stop_when_the_cursor_does_not_move() -> None:
    page = {"organizations": [{"id": 1, "name": "Acme"}], "meta": {"has_more": True, "after_cursor": "a"}}
    page["links"] = {"next": "more"}
    assert zendesk(page).clients() == ["Acme"]


def test_slack_message_fields_of_the_wrong_type_read_as_absent() -> None:
    raw = {"ts": 1.5, "text": ["x"], "user_profile": "p", "edited": 3, "metadata": [], "reactions": {"a": 1}}
    message = to_chat_message(raw, ChannelInfo(id="C1", name="x"), lambda user: (user, False))
    assert (message.id, message.text, message.edited_at, message.reactions) == ("1.5", "", None, ())
    with pytest.raises(MalformedMessage, match="no 'ts'"):
        to_chat_message({"text": "x"}, ChannelInfo(id="C1", name="x"), lambda user: (user, False))


def test_mentions_are_read_from_slack_markup_once_each_in_order() -> None:
    raw = {"ts": "1.5", "user": "U1", "text": "<@U05PEDRO> e <@W0ANA|ana>: status? cc <@U05PEDRO>"}
    message = to_chat_message(raw, ChannelInfo("C1", "geral"), lambda user: (user, False))
    assert message.mentions == ("U05PEDRO", "W0ANA")
