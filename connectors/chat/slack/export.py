"""Reading chat history for audits: message lines (JSONL) and Slack's standard export.

Message lines are the chat message input of CONTRACTS.md: one Slack message object per line
plus a ``channel`` key. A Slack export (a folder or its zip) has ``channels.json``,
``users.json`` and ``<channel>/<YYYY-MM-DD>.json`` files. Both are streamed: nothing is held
but the line or day file being read. Subtypes are applied as Slack does: ``message_changed``
becomes an edit of the message it names, ``message_deleted`` a deletion; joins, leaves, topics
and bots are passed on as messages that are never judged.

Every event carries its place in the input (``seq``): each message file and each export day
file is one *unit*, counted from 0 in reading order, and the line number or index within it.
Lines are parsed with orjson, from bytes where the source gives bytes; a line that is not
UTF-8 is read as Windows-1252 (files saved by Excel), a byte-order mark is dropped, and a line
nothing reads is skipped, counted and named — never the end of the audit.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from connectors.chat.slack.messages import MalformedMessage, to_chat_message
from hygiene.errors import HygieneError
from hygiene.models import ChatEvent, ChatMessage
from hygiene.ports import ChannelInfo
from hygiene.textfiles import FALLBACK, FIX

IGNORED_EVENTS = {"message_replied"}


class InputError(HygieneError):
    exit_code = 2


@dataclass
class MessageReader:
    """Turns Slack message objects into :class:`~hygiene.models.ChatEvent` s, counting bad lines."""

    users: dict[str, tuple[str, bool]] = field(default_factory=dict)
    channel_names: dict[str, str] = field(default_factory=dict)
    skips: list[tuple[tuple[int, int], str]] = field(default_factory=list)
    """(where in the input, why) of every line or message left out, in reading order."""
    read: int = 0
    units: int = 0
    """Units (message files, export day files) begun so far; the next one's number."""
    _infos: dict[str, ChannelInfo] = field(default_factory=dict, repr=False)
    _utf8_sources: set[str] = field(default_factory=set, repr=False)

    @property
    def skipped(self) -> list[str]:
        return [why for _, why in self.skips]

    def user(self, user_id: str) -> tuple[str, bool]:
        return self.users.get(user_id, (user_id, False))

    def next_unit(self) -> int:
        self.units += 1
        return self.units - 1

    def from_lines(self, lines: Iterable[str | bytes], source: str) -> Iterator[ChatEvent]:
        """One message file (or stdin): a unit of its own."""
        unit = self.next_unit()
        for number, line in enumerate(lines, start=1):
            raw = self.parse_line(line, source, (unit, number))
            if raw is not None:
                yield from self.events(raw, str(raw["channel"]), f"{source}:{number}", (unit, number))

    def from_bytes(self, lines: Iterable[bytes], source: str) -> Iterator[ChatEvent]:
        """A message file opened in binary: UTF-8 (with or without a BOM) or Windows-1252."""
        return self.from_lines(lines, source)

    def parse_line(self, line: str | bytes, source: str, seq: tuple[int, int]) -> dict[str, Any] | None:
        """A message line's object, or None for a blank line or one it skips (and names)."""
        if not line or line.isspace():
            return None
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if isinstance(line, bytes) and not _utf8(line) and source in self._utf8_sources:
                # a file already seen to be UTF-8 does not switch to Windows-1252 for one line
                self.skips.append((seq, f"{source}:{seq[1]}: bytes that are not UTF-8 (skipped); {FIX}"))
                return None
            raw = _other_encoding(line) if isinstance(line, bytes) else None
            if raw is None:
                self.skips.append((seq, f"{source}:{seq[1]}: not valid JSON ({exc.msg})"))
                return None
        except RecursionError:
            self.skips.append((seq, f"{source}:{seq[1]}: not valid JSON (nested too deep)"))
            return None
        if not isinstance(raw, dict) or not raw.get("channel"):
            self.skips.append((seq, f"{source}:{seq[1]}: expected a message object with a 'channel' key"))
            return None
        if isinstance(line, bytes) and not line.isascii() and _utf8(line):
            self._utf8_sources.add(source)
        return raw

    def events(
        self, raw: dict[str, Any], channel: str, where: str, seq: tuple[int, int] = (0, 0)
    ) -> Iterator[ChatEvent]:
        """The event(s) one Slack message object stands for."""
        self.read += 1
        labels = raw.get("labels")
        labels = tuple(labels) if isinstance(labels, list) else None
        subtype = raw.get("subtype")
        try:
            if subtype is None:
                message = with_line_keys(to_chat_message(raw, self._channel(channel), self.user), raw)
                yield ChatEvent("message", channel, message.id, message, labels, where, seq)
            elif subtype in IGNORED_EVENTS:
                return
            elif subtype == "message_deleted":
                yield ChatEvent("deleted", channel, str(raw["deleted_ts"]), source=where, seq=seq, at=_at(raw))
            elif subtype == "message_changed":
                inner = dict(raw.get("message") or {})
                if "ts" not in inner:
                    raise KeyError("message.ts")
                edit = to_chat_message(inner, self._channel(channel), self.user)
                yield ChatEvent("changed", channel, str(inner["ts"]), edit, labels, where, seq, _at(raw))
            else:
                message = with_line_keys(to_chat_message(raw, self._channel(channel), self.user), raw)
                yield ChatEvent("message", channel, message.id, message, labels, where, seq)
        except MalformedMessage as exc:
            self.skips.append((seq, f"{where}: {exc}"))
        except (KeyError, TypeError, ValueError) as exc:
            self.skips.append((seq, f"{where}: malformed message ({type(exc).__name__}: {exc})"))

    def _channel(self, channel: str) -> ChannelInfo:
        info = self._infos.get(channel)
        if info is None:
            info = self._infos[channel] = ChannelInfo(id=channel, name=self.channel_names.get(channel, channel))
        return info

    def from_export(self, path: Path) -> Iterator[ChatEvent]:
        """Every channel of a Slack export folder or zip, day by day."""
        archive = self.open_export(path)
        for name, day in archive.days():
            yield from self.from_day(archive, name, day, self.next_unit())

    def open_export(self, path: Path) -> Archive:
        """The export, with its users and channel names read."""
        archive = Archive(path)
        try:
            users = archive.json("users.json", default=[])
        except InputError as exc:  # a broken users.json: messages keep their user ids
            self.skips.append(((self.units, 0), f"{exc} (user names not read)"))
            users = []
        for user in _objects(users):
            profile = user["profile"] if isinstance(user.get("profile"), dict) else {}
            name = profile.get("display_name") or user.get("name") or user.get("id")
            self.users[str(user.get("id"))] = (str(name), bool(user.get("is_bot")))
        for name in archive.channels:
            self.channel_names[name] = name
        return archive

    def from_day(self, archive: Archive, channel: str, day: str, unit: int) -> Iterator[ChatEvent]:
        """One channel's day file: a unit."""
        try:
            messages = archive.json(day, default=[])
        except InputError as exc:
            self.skips.append(((unit, 0), f"{exc} (skipped)"))
            return
        if not isinstance(messages, list):
            self.skips.append(((unit, 0), f"{archive.path}/{day}: expected a list of messages"))
            return
        for index, raw in enumerate(messages, start=1):
            if isinstance(raw, dict):
                yield from self.events(raw, channel, f"{day}[{index}]", (unit, index))
            else:
                self.skips.append(((unit, index), f"{archive.path}/{day}[{index}]: expected a message object"))


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _other_encoding(line: bytes) -> dict[str, Any] | None:
    """A line saved with a byte-order mark or in Windows-1252, or None when that does not read either."""
    for encoding in ("utf-8-sig", FALLBACK):
        try:
            raw = orjson.loads(line.decode(encoding))
        except (UnicodeDecodeError, orjson.JSONDecodeError, RecursionError):
            continue
        return raw if isinstance(raw, dict) else None
    return None


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (anything else in it, or a non-list, is ignored)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _at(raw: dict[str, Any]) -> float | None:
    """When an edit or deletion happened: the event's own ts."""
    ts = raw.get("ts")
    return float(ts) if ts else None


class Archive:
    """A Slack export read the same way from a folder or a zip file."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path) if path.is_file() else None
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{path}: not a Slack export folder or zip ({exc}); give the folder or the .zip") from None
        self.prefix = ""
        self._zip_days: dict[str, list[str]] = defaultdict(list)
        if self.zip is not None:
            self._index_zip(self.zip.namelist())
        found = _objects(self.json("channels.json", default=[])) + _objects(self.json("groups.json", default=[]))
        if not found:
            raise InputError(f"{path}: not a Slack export (no channels.json with channel objects)")
        self.channels = [str(channel.get("name") or channel.get("id")) for channel in found]

    def _index_zip(self, names: list[str]) -> None:
        top = [n for n in names if n.endswith("channels.json")]
        self.prefix = top[0][: -len("channels.json")] if top else ""
        for name in names:
            if name.startswith(self.prefix) and name.endswith(".json"):
                inside = PurePosixPath(name[len(self.prefix) :])
                if len(inside.parts) == 2:
                    self._zip_days[inside.parts[0]].append(str(inside))

    def json(self, name: str, default: Any) -> Any:
        try:
            data = self._read(name)
        except (FileNotFoundError, KeyError):
            return default
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputError(f"{self.path}/{name}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            for encoding in ("utf-8-sig", FALLBACK):
                try:
                    return orjson.loads(data.decode(encoding))
                except (UnicodeDecodeError, orjson.JSONDecodeError):
                    continue
            raise InputError(f"{self.path}/{name}: not valid JSON; {FIX}") from None
        except RecursionError:
            raise InputError(f"{self.path}/{name}: not valid JSON (nested too deep)") from None

    def _read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(self.prefix + name)
        return (self.path / name).read_bytes()

    def days(self) -> Iterator[tuple[str, str]]:
        """(channel, day file) of every channel, in the export's channel order, days in order."""
        for channel in self.channels:
            for day in self.day_files(channel):
                yield channel, day

    def day_files(self, channel: str) -> list[str]:
        if self.zip is not None:
            return sorted(self._zip_days.get(channel, []))
        folder = self.path / channel
        return sorted(f"{channel}/{p.name}" for p in folder.glob("*.json")) if folder.is_dir() else []

    def size(self, day: str) -> int:
        """Bytes of a day file (for progress)."""
        if self.zip is not None:
            return self.zip.getinfo(self.prefix + day).file_size
        return (self.path / day).stat().st_size


LINE_SIDES = frozenset({"team", "agent", "client", "note"})


def with_line_keys(message: ChatMessage, raw: dict[str, Any]) -> ChatMessage:
    """hygiene's own keys of a message line, beside Slack's: ``side`` (``client``, ``agent``, ``note``
    or ``team``: who wrote it in a conversation with a client), ``client`` (the client the writer
    belongs to) and ``department`` — so a client conversation can be audited and scored like chat."""
    side = raw.get("side")
    client, department = raw.get("client"), raw.get("department")
    if side is None and client is None and department is None:
        return message
    if side is not None and side not in LINE_SIDES:
        raise ValueError(f"'side' must be one of {', '.join(sorted(LINE_SIDES))}, not {side!r}")
    return replace(
        message,
        author_side=side or message.author_side,
        client_hint=str(client) if isinstance(client, str) and client else message.client_hint,
        department=str(department) if isinstance(department, str) and department else message.department,
    )
