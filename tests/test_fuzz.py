"""Fuzzing every reader of outside input: any input gives a clear error or a skipped record.

Allowed outcomes per target: a result, a :class:`~hygiene.errors.HygieneError` subclass, or a
record skipped and counted — never another exception, never a hang (each example runs under an
alarm). Profiles (tests/conftest.py): ``ci`` (default, a few hundred examples a target) and
``bench`` (10,000+), e.g. ``HYPOTHESIS_PROFILE=bench pytest tests/test_fuzz.py`` or
``python bench/bench_fuzz.py``, which prints examples run and failures per target.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from connectors.budget import CallBudget
from connectors.chat.rocketchat.chat import RocketChat
from connectors.chat.rocketchat.client import RocketChatClient
from connectors.chat.rocketchat.markup import render as render_rocketchat
from connectors.chat.rocketchat.messages import to_chat_message as rocketchat_message
from connectors.chat.rocketchat.settings import DEFAULT_BUDGET as ROCKETCHAT_BUDGET
from connectors.chat.slack.export import MessageReader
from connectors.chat.slack.markup import render
from connectors.chat.slack.messages import to_chat_message
from connectors.helpdesk.files import read_tickets
from connectors.helpdesk.gclick import STATUS, GClickHelpdesk, to_ticket
from connectors.helpdesk.zendesk import ZendeskHelpdesk
from hygiene import config as config_module
from hygiene.clock import FrozenClock
from hygiene.errors import HygieneError
from hygiene.models import Ticket
from hygiene.ports import ChannelInfo, ReadWindow
from hygiene.wiring import build_rules

EXAMPLES: Counter[str] = Counter()
"""Examples run per target (read by bench/bench_fuzz.py)."""
SCRATCH = Path(tempfile.mkdtemp(prefix="hygiene-fuzz-"))
SECONDS = 10


@contextmanager
def bounded(target: str) -> Iterator[None]:
    """Count the example and fail it if it runs past SECONDS (a hang)."""
    EXAMPLES[target] += 1

    def hang(*_: object) -> None:
        raise TimeoutError(f"{target}: example ran past {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# strategies -------------------------------------------------------------------------------------
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=12,
)
toml_scalars = (
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=30)
    | st.dates()
    | st.times()
    | st.datetimes()
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]


def shaped(keys: list[str], values: st.SearchStrategy[Any] = json_values) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with a platform's keys (and some others) holding any JSON."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), values, max_size=len(keys) + 2)


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="ignore")


MESSAGE_KEYS = ["channel", "ts", "thread_ts", "user", "text", "subtype", "bot_id", "user_profile", "edited"]
MESSAGE_KEYS += ["reply_count", "latest_reply", "reactions", "metadata", "message", "deleted_ts", "labels", "username"]
message_values = json_values | st.sampled_from(["C1", "1700000000.000100", "message_changed", "message_deleted"])
messages = shaped(MESSAGE_KEYS, message_values)
RC_MESSAGE_KEYS = ["_id", "rid", "msg", "ts", "u", "t", "tmid", "tcount", "tlm", "editedAt", "reactions", "mentions"]
RC_MESSAGE_KEYS += ["bot", "_updatedAt", "username", "usernames", "$date"]
rc_values = json_values | st.sampled_from(["2026-11-18T12:50:51.555Z", "x", ":eyes:", "Sr2YwK9bTnF6gHcMd", 3])
rc_messages = shaped(RC_MESSAGE_KEYS, rc_values | st.fixed_dictionaries({"_id": rc_values, "username": rc_values}))
rc_bodies = shaped(["messages", "success", "total", "count", "offset"], json_values | st.lists(rc_messages, max_size=3))
TICKET_KEYS = [*Ticket.model_fields, "tags", "internal_notes"]
TASK_KEYS = ["id", "status", "nome", "assunto", "clienteApelido", "cliente", "departamento", "obrigacao"]
TASK_KEYS += ["categoria", "dataAcao", "dataConclusao", "dataVencimento", "respondidaEm", "email", "apelido"]
task_values = json_values | st.sampled_from(sorted(STATUS)) | st.sampled_from(["2026-11-18T09:00:00", "2026-11-18"])
tasks = shaped(TASK_KEYS, task_values)
PAGE_KEYS = ["content", "last", "totalPages", "totalElements"]
pages = shaped(PAGE_KEYS, json_values | st.lists(tasks, max_size=3)) | json_values
ZENDESK_KEYS = ["tickets", "users", "organizations", "metric_sets", "after_cursor", "end_of_stream", "meta", "links"]
ZENDESK_TICKET_KEYS = ["id", "status", "subject", "assignee_id", "organization_id", "updated_at", "created_at"]
ZENDESK_TICKET_KEYS += ["priority", "type", "due_at", "raw_subject", "name", "email", "ticket_id", "has_more"]
zendesk_values = json_values | st.sampled_from(["open", "solved", "2026-11-18T09:00:00Z", 1, 2])
zendesk_bodies = shaped(ZENDESK_KEYS, json_values | st.lists(shaped(ZENDESK_TICKET_KEYS, zendesk_values))) | json_values


def config_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """TOML-shaped documents with the config's own sections and keys, holding any TOML values."""
    sections = {}
    for name, field in config_module.Config.model_fields.items():
        model = field.annotation
        keys = list(getattr(model, "model_fields", {})) or ["HY101", "HY901", "mode", "channels", "phrases"]
        sections[name] = shaped(keys, toml_values) | toml_values
    return st.fixed_dictionaries({}, optional=sections) | shaped(list(sections), toml_values)


class StubHttp:
    """Answers every request with the next drawn body, then the last one forever (to catch loops)."""

    def __init__(self, bodies: list[Any]) -> None:
        self.bodies = bodies or [None]
        self.calls = 0

    def request(self, method: str, path: str, **_: Any) -> Any:
        self.calls += 1
        if self.calls > 500:
            raise AssertionError(f"{method} {path}: still paging after 500 calls (a loop)")
        return self.bodies[min(self.calls - 1, len(self.bodies) - 1)]


class StubResponse:
    """A requests response with a drawn JSON body (or bytes that are not JSON)."""

    def __init__(self, body: Any) -> None:
        self.status_code, self.headers, self.body = 200, {}, body

    def json(self) -> Any:
        if isinstance(self.body, bytes):
            raise ValueError("not JSON")
        return self.body


class StubSession(StubHttp):
    def request(self, method: str, path: str, **options: Any) -> Any:
        return StubResponse(super().request(method, path, **options))


class People:
    def user(self, user_id: str) -> tuple[str, bool]:
        return (user_id, False)

    def user_id(self, username: str) -> str | None:
        return None if username == "x" else f"id-{username}"


def allowed(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except HygieneError:
        return None


# targets ----------------------------------------------------------------------------------------
@given(config_dicts())
def test_config_loader(data: dict[str, Any]) -> None:
    with bounded("config loader"):
        for offline in (False, True):
            config = allowed(lambda: config_module.parse(data, offline=offline))  # noqa: B023
            if config is not None:
                allowed(lambda: build_rules(config.rules))  # noqa: B023


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode), st.sampled_from(ENCODINGS))
def test_config_file(raw: bytes, encoding: str) -> None:
    with bounded("config file"):
        path = SCRATCH / "hygiene.toml"
        path.write_bytes(raw if encoding == "utf-8" else encoded(raw.decode("utf-8", "replace"), encoding))
        allowed(lambda: config_module.load(path))


@given(st.lists(st.tuples(messages, st.sampled_from(ENCODINGS)) | st.binary(max_size=80), max_size=8))
def test_message_lines(lines: list[tuple[dict[str, Any], str] | bytes]) -> None:
    with bounded("message lines"):
        raw = [
            item if isinstance(item, bytes) else encoded(json.dumps(item[0], default=str), item[1]) for item in lines
        ]
        reader = MessageReader()
        events = allowed(lambda: list(reader.from_bytes(b"\n".join(raw).splitlines(keepends=True), "fuzz.jsonl")))
        assert events is not None, "a message file never fails as a whole"


@given(
    st.one_of(st.lists(shaped(["id", "name"]), max_size=3), json_values).map(json.dumps) | st.text(max_size=40),
    st.one_of(st.lists(shaped(["id", "name", "profile", "is_bot"]), max_size=3), json_values).map(json.dumps),
    st.lists(
        st.lists(messages, max_size=4).map(lambda m: json.dumps(m, default=str)) | st.text(max_size=40), max_size=3
    ),
    st.sampled_from(ENCODINGS),
    st.booleans(),
)
def test_slack_export(channels: str, users: str, days: list[str], encoding: str, zipped: bool) -> None:
    with bounded("slack export"):
        path = SCRATCH / "export.zip"
        if zipped:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("channels.json", encoded(channels, encoding))
                archive.writestr("users.json", encoded(users, encoding))
                for index, day in enumerate(days):
                    archive.writestr(f"geral/2026-11-{index + 10}.json", encoded(day, encoding))
            path.write_bytes(buffer.getvalue())
        else:
            path.write_bytes(encoded(channels, encoding))
        reader = MessageReader()
        allowed(lambda: list(reader.from_export(path)))


@given(st.text(alphabet=st.sampled_from("<>|@#!^&;amplgt UC01:/.xhere") | st.characters(), max_size=200))
def test_slack_markup_renderer(markup: str) -> None:
    with bounded("markup renderer"):
        assert isinstance(render(markup, lambda user: None if user == "U0" else "Ana"), str)


def _ticket_file(rows: list[dict[str, Any]], suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(rows, default=str)
    if suffix == ".jsonl":
        return "".join(json.dumps(row, default=str) + "\n" for row in rows)
    out = io.StringIO()
    header = sorted({key for row in rows for key in row})
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@given(
    st.lists(shaped(TICKET_KEYS, json_values | st.sampled_from(["open", "1", "2026-11-18T09:00"])), max_size=4)
    | st.binary(max_size=200),
    st.sampled_from([".json", ".jsonl", ".csv"]),
    st.sampled_from(ENCODINGS),
)
def test_ticket_file_reader(content: list[dict[str, Any]] | bytes, suffix: str, encoding: str) -> None:
    with bounded("ticket file"):
        path = SCRATCH / f"tickets{suffix}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(encoded(_ticket_file(content, suffix), encoding))
        allowed(lambda: read_tickets(path))


@given(messages | json_values)
def test_slack_message_normalization(raw: Any) -> None:
    with bounded("slack message"):
        allowed(lambda: to_chat_message(raw, ChannelInfo(id="C1", name="geral"), lambda user: (str(user), False)))


@given(rc_messages | json_values)
def test_rocketchat_message_normalization(raw: Any) -> None:
    with bounded("rocketchat message"):
        allowed(lambda: rocketchat_message(raw, ChannelInfo(id="R1", name="geral"), People()))


@given(st.text(alphabet=st.sampled_from("[]()<>|@#:_*~`hts/.x ") | st.characters(), max_size=200))
def test_rocketchat_markup_renderer(markup: str) -> None:
    with bounded("rocketchat markup renderer"):
        assert isinstance(render_rocketchat(markup), str)


@given(st.lists(rc_bodies | st.binary(max_size=20), min_size=1, max_size=4))
def test_rocketchat_history_pages(bodies: list[Any]) -> None:
    with bounded("rocketchat pages"):
        clock = FrozenClock(datetime(2026, 11, 18, 13, tzinfo=UTC))
        api = RocketChatClient(
            "https://rc.example", "u", "t", clock, CallBudget(dict.fromkeys(ROCKETCHAT_BUDGET, 6)), retries=1
        )
        api.session = StubSession([{**b, "success": True} if isinstance(b, dict) else b for b in bodies])  # type: ignore[assignment]
        chat = RocketChat(api, page_size=3)
        chat.connect({"user_id": "u"})
        window = ReadWindow(clock.now(), clock.now(), clock.now())
        allowed(lambda: chat.fetch(ChannelInfo(id="R1", name="geral"), {"t": "c"}, window))


@given(tasks | json_values, json_values | st.lists(tasks, max_size=2), json_values | st.lists(tasks, max_size=2))
def test_gclick_to_ticket(raw: Any, owners: Any, activities: Any) -> None:
    with bounded("gclick to_ticket"):
        allowed(lambda: to_ticket(raw, owners, activities, STATUS))


@given(st.lists(pages, min_size=1, max_size=6))
def test_gclick_pages(bodies: list[Any]) -> None:
    with bounded("gclick pages"):
        helpdesk = GClickHelpdesk("https://gclick.invalid", "id", "secret", today=lambda: date(2026, 11, 18))
        helpdesk.http = StubHttp(bodies)  # type: ignore[assignment]
        allowed(lambda: helpdesk.sync({}))
        helpdesk.http = StubHttp(bodies)  # type: ignore[assignment]
        allowed(helpdesk.clients)


@given(st.lists(zendesk_bodies, min_size=1, max_size=5), json_values)
def test_zendesk_pages(bodies: list[Any], state: Any) -> None:
    with bounded("zendesk pages"):
        now = datetime.combine(date(2026, 11, 18), time(9), UTC)
        helpdesk = ZendeskHelpdesk("https://z.invalid", "a@b.c", "token", now=lambda: now)
        helpdesk.http = StubHttp(bodies)  # type: ignore[assignment]
        allowed(lambda: helpdesk.sync(state if isinstance(state, dict) else {}))
        helpdesk.http = StubHttp(bodies)  # type: ignore[assignment]
        allowed(lambda: helpdesk.get_ticket("1"))


def test_every_target_is_counted() -> None:
    """bench/bench_fuzz.py reports these names; a renamed target must not vanish from it."""
    names = {"config loader", "config file", "message lines", "slack export", "markup renderer", "ticket file"}
    names |= {"slack message", "gclick to_ticket", "gclick pages", "zendesk pages"}
    names |= {"rocketchat message", "rocketchat markup renderer", "rocketchat pages"}
    assert set(TARGETS) == names


TARGETS: dict[str, Callable[[], None]] = {
    "config loader": test_config_loader,
    "config file": test_config_file,
    "message lines": test_message_lines,
    "slack export": test_slack_export,
    "markup renderer": test_slack_markup_renderer,
    "ticket file": test_ticket_file_reader,
    "slack message": test_slack_message_normalization,
    "gclick to_ticket": test_gclick_to_ticket,
    "gclick pages": test_gclick_pages,
    "zendesk pages": test_zendesk_pages,
    "rocketchat message": test_rocketchat_message_normalization,
    "rocketchat markup renderer": test_rocketchat_markup_renderer,
    "rocketchat pages": test_rocketchat_history_pages,
}
