"""Reading chat history for audits: message lines (JSONL) and Slack's standard export.

Message lines are the chat message input of CONTRACTS.md: one Slack message object per line
plus a ``channel`` key. A Slack export (a folder or its zip) has ``channels.json``,
``users.json`` and ``<channel>/<YYYY-MM-DD>.json`` files. Both are streamed: nothing is held
but the line or day file being read. Subtypes are applied as Slack does: ``message_changed``
becomes an edit of the message it names, ``message_deleted`` a deletion; joins, leaves, topics
and bots are passed on as messages that are never judged.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from connectors.slack_messages import MalformedMessage, to_chat_message
from hygiene.errors import HygieneError
from hygiene.models import ChatEvent
from hygiene.ports import ChannelInfo
from hygiene.textfiles import LineDecoder, TextFileError, decode

IGNORED_EVENTS = {"message_replied"}


class InputError(HygieneError):
    exit_code = 2


@dataclass
class MessageReader:
    """Turns Slack message objects into :class:`~hygiene.models.ChatEvent` s, counting bad lines."""

    users: dict[str, tuple[str, bool]] = field(default_factory=dict)
    channel_names: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    read: int = 0

    def user(self, user_id: str) -> tuple[str, bool]:
        return self.users.get(user_id, (user_id, False))

    def from_bytes(self, lines: Iterable[bytes], source: str) -> Iterator[ChatEvent]:
        """Message lines of a file opened in binary: UTF-8 (with or without BOM) or Windows-1252."""
        decoder = LineDecoder(source, bad=self.skipped)
        yield from self._numbered(decoder.lines(lines), source)

    def from_lines(self, lines: Iterable[str], source: str) -> Iterator[ChatEvent]:
        yield from self._numbered(enumerate(lines, start=1), source)

    def _numbered(self, lines: Iterable[tuple[int, str]], source: str) -> Iterator[ChatEvent]:
        for number, line in lines:
            if not line.strip():
                continue
            where = f"{source}:{number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                self.skipped.append(f"{where}: not valid JSON ({exc.msg})")
                continue
            except (ValueError, RecursionError) as exc:
                self.skipped.append(f"{where}: not valid JSON ({type(exc).__name__})")
                continue
            if not isinstance(raw, dict) or not raw.get("channel"):
                self.skipped.append(f"{where}: expected a message object with a 'channel' key")
                continue
            yield from self.events(raw, str(raw["channel"]), where)

    def events(self, raw: dict[str, Any], channel: str, where: str) -> Iterator[ChatEvent]:
        """The event(s) one Slack message object stands for."""
        self.read += 1
        labels = tuple(raw["labels"]) if isinstance(raw.get("labels"), list) else None
        subtype = raw.get("subtype")
        info = ChannelInfo(id=channel, name=self.channel_names.get(channel, channel))
        try:
            if subtype in IGNORED_EVENTS:
                return
            if subtype == "message_deleted":
                yield ChatEvent("deleted", channel, str(raw["deleted_ts"]), source=where)
                return
            if subtype == "message_changed":
                inner = dict(raw.get("message") or {})
                if "ts" not in inner:
                    raise KeyError("message.ts")
                yield ChatEvent(
                    "changed", channel, str(inner["ts"]), to_chat_message(inner, info, self.user), labels, where
                )
                return
            if "ts" not in raw:
                raise KeyError("ts")
            message = to_chat_message(raw, info, self.user)
            yield ChatEvent("message", channel, message.ts, message, labels, where)
        except MalformedMessage as exc:
            self.skipped.append(f"{where}: {exc}")
        except (KeyError, TypeError, ValueError) as exc:
            self.skipped.append(f"{where}: malformed message ({type(exc).__name__}: {exc})")

    def from_export(self, path: Path) -> Iterator[ChatEvent]:
        """Every channel of a Slack export folder or zip, day by day."""
        archive = _Archive(path)
        self._load_users(archive)
        listed = [archive.json(name, default=[]) for name in ("channels.json", "groups.json")]
        channels = [channel for found in listed for channel in _objects(found)]
        if not channels:
            raise InputError(f"{path}: not a Slack export (no channels.json with channel objects)")
        for channel in channels:
            name = str(channel.get("name") or channel.get("id"))
            self.channel_names[name] = name
            for day in archive.day_files(name):
                yield from self._day(archive, name, day)

    def _day(self, archive: _Archive, channel: str, day: str) -> Iterator[ChatEvent]:
        try:
            messages = archive.json(day, default=[])
        except InputError as exc:
            self.skipped.append(f"{exc} (skipped)")
            return
        if not isinstance(messages, list):
            self.skipped.append(f"{archive.path}/{day}: expected a list of messages")
            return
        for index, raw in enumerate(messages, start=1):
            if isinstance(raw, dict):
                yield from self.events(raw, channel, f"{day}[{index}]")
            else:
                self.skipped.append(f"{archive.path}/{day}[{index}]: expected a message object")

    def _load_users(self, archive: _Archive) -> None:
        """Display names from users.json; a broken one is counted and messages keep their user ids."""
        try:
            users = archive.json("users.json", default=[])
        except InputError as exc:
            self.skipped.append(f"{exc} (user names not read)")
            return
        for user in _objects(users):
            profile = user["profile"] if isinstance(user.get("profile"), dict) else {}
            name = profile.get("display_name") or user.get("name") or user.get("id")
            self.users[str(user.get("id"))] = (str(name), bool(user.get("is_bot")))


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (anything else in it, or a non-list, is ignored)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


class _Archive:
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
        if self.zip is not None:
            names = self.zip.namelist()
            top = [n for n in names if n.endswith("channels.json")]
            self.prefix = top[0][: -len("channels.json")] if top else ""

    def json(self, name: str, default: Any) -> Any:
        try:
            with self._open(name) as handle:
                text = decode(handle.read(), f"{self.path}/{name}")
        except (FileNotFoundError, KeyError):
            return default
        except (OSError, zipfile.BadZipFile, TextFileError) as exc:
            raise InputError(f"{self.path}/{name}: cannot be read: {exc}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.path}/{name}: not valid JSON: {exc}") from None
        except (ValueError, RecursionError) as exc:
            raise InputError(f"{self.path}/{name}: not valid JSON ({type(exc).__name__})") from None

    def _open(self, name: str) -> IO[bytes]:
        if self.zip is not None:
            return self.zip.open(self.prefix + name)
        return (self.path / name).open("rb")

    def day_files(self, channel: str) -> list[str]:
        if self.zip is not None:
            inside = PurePosixPath(self.prefix + channel)
            names = [n for n in self.zip.namelist() if PurePosixPath(n).parent == inside and n.endswith(".json")]
            return sorted(n[len(self.prefix) :] for n in names)
        folder = self.path / channel
        return sorted(f"{channel}/{p.name}" for p in folder.glob("*.json")) if folder.is_dir() else []
