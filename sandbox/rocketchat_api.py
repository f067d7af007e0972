"""A faithful subset of Rocket.Chat's REST API (``/api/v1``), served over HTTP on loopback.

What it reproduces, from the server's source (see ../shared/research/rocketchat-api.md for the
file of each fact): ``X-User-Id`` + ``X-Auth-Token`` on every call, 401 ``You must be logged in to
do this.`` otherwise (apps/meteor/app/api/server/middlewares/authenticationHono.ts); ``success:
true`` on every answer; failures as 400 ``{"error": "<reason> [<code>]", "errorType": "<code>"}``,
403 ``{"error": "unauthorized"}`` for a public channel the caller is not in, 429 from the rate
limiter (apps/meteor/app/api/server/ApiClass.ts); offset pagination with ``count`` 50 by default,
at most 100, 0 for all (getPaginationItems.ts), except ``groups.history`` (20, no cap); history
newest first with ``oldest``/``latest`` exclusive unless ``inclusive=true`` and thread replies
left out unless ``showThreadMessages`` (shown by default on groups only) or sent with ``tshow``
(getChannelHistory.ts); unknown query parameters refused (the rest-typings schemas are
``additionalProperties: false``); ``chat.getThreadMessages`` oldest first, replies only;
``chat.syncMessages`` in ``lastUpdate`` mode; ``_updatedAt`` bumped by edits, reactions and
replies (BaseRaw.ts); ``chat.sendMessage`` honouring a client ``_id`` and never inserting a second
message with one it has (apps/meteor/app/lib/server/functions/sendMessage.ts; what it answers then
is UNVERIFIED, modelled as the likely 400 TypeError text); ``chat.react`` set/unset/toggle;
``im.create`` by username; e-mails in ``users.*`` only for callers with
``view-full-other-user-info``. The REST rate limiter (10 calls a minute per endpoint and method,
``X-RateLimit-Reset`` in epoch milliseconds) is off for the bot, as for any user with
``api-bypass-rate-limit`` (roles admin, bot, app), and can be switched on.

Faults are injected per endpoint like the other fakes: ``server_error``, ``unavailable``,
``timeout``, ``late``, ``reset``, ``reset_after``, ``malformed`` (sandbox/http_server.py), and the
Rocket.Chat-shaped ``ratelimited`` (429 with ``X-RateLimit-Reset``), ``error:<code>`` (400),
``unauthorized`` (401) and ``forbidden`` (403). Every write the bot makes is recorded.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hygiene.clock import Clock, SystemClock
from sandbox.http_server import FaultBook, JsonApiServer, Reply, Request

SCENARIOS = Path(__file__).parent / "scenarios"
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
TRANSPORT_FAULTS = {"server_error", "unavailable", "timeout", "late", "reset", "reset_after", "malformed"}
LOGGED_OUT = "You must be logged in to do this."
MENTION = re.compile(r"(?<![\w@])@([\w.\-]+)")
EMOJI = re.compile(r"^:?([a-z0-9_+\-]+):?$")
HISTORY_PARAMS = {"roomId", "roomName", "latest", "oldest", "inclusive", "showThreadMessages", "unreads", "count"}
PAGED = {"count", "offset", "sort", "query", "fields"}
ALLOWED = {
    "me": set(),
    "channels.list": PAGED | {"_id"},
    "channels.list.joined": PAGED,
    "groups.list": PAGED,
    "channels.history": HISTORY_PARAMS | {"offset", "sort"},
    "groups.history": HISTORY_PARAMS | {"offset", "sort"},
    "chat.getThreadMessages": PAGED | {"tmid"},
    "chat.getMessage": {"msgId"},
    "chat.syncMessages": {"roomId", "lastUpdate", "count", "next", "previous", "type"},
    "users.info": {"userId", "username", "importId", "includeUserRooms", "fields"},
    "users.list": PAGED,
}


def iso(moment: datetime) -> str:
    """A date as the REST API writes it: ISO-8601 in UTC with milliseconds and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ApiError(Exception):
    """A Meteor error as the API answers it: 400 ``{error: "<reason> [<code>]", errorType: code}``."""

    def __init__(self, code: str, reason: str = "", status: int = 400, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}
        if status == 400 and code:
            self.body: dict[str, Any] = {"success": False, "error": f"{reason or code} [{code}]", "errorType": code}
        else:
            self.body = {"success": False, "error": reason or code} if (reason or code) else {"success": False}
        super().__init__(self.body.get("error", ""))


@dataclass
class RocketChatState:
    clock: Clock = field(default_factory=SystemClock)
    bot: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trash: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: FaultBook = field(default_factory=FaultBook)
    api_faults: FaultBook = field(default_factory=FaultBook)
    posts: list[dict[str, Any]] = field(default_factory=list)
    rate_limit: bool = False
    """Apply the REST rate limiter to the bot too (off: bots hold ``api-bypass-rate-limit``)."""
    rate_calls: int = 10
    rate_window: timedelta = timedelta(seconds=60)
    windows: dict[tuple[str, str], tuple[datetime, int]] = field(default_factory=dict)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    # seeding -------------------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, name_or_path: str | Path = "rocketchat", clock: Clock | None = None) -> RocketChatState:
        path = Path(name_or_path)
        if not path.exists():
            path = SCENARIOS / f"{name_or_path}.json"
        state = cls(clock=clock or SystemClock())
        state.load(json.loads(path.read_text(encoding="utf-8")))
        return state

    def load(self, data: dict[str, Any]) -> None:
        bot = data["bot"]
        self.bot = bot
        self.tokens[bot["token"]] = bot["_id"]
        self.add_user(bot["_id"], bot["username"], bot.get("name", ""), bot.get("email", ""), type="bot")
        self.users[bot["_id"]]["roles"] = ["bot"]
        self.users[bot["_id"]]["permissions"] = list(bot.get("permissions", []))
        for user in data.get("users", []):
            self.add_user(**user)
        for room in data.get("rooms", []):
            self.add_room(**room)
        keys: dict[str, str] = {}
        now = self.clock.now()
        for item in data.get("messages", []):
            at = now - timedelta(minutes=float(item.get("minutes_ago", 0)))
            tmid = keys[item["thread"]] if item.get("thread") else None
            options = {"t": item.get("t"), "bot": item.get("bot", False), "tmid": tmid, "at": at}
            message_id = self.post_as(item["user"], item["room"], item["text"], **options)
            if item.get("key"):
                keys[item["key"]] = message_id
            for emoji, users in item.get("reactions", {}).items():
                for user in users:
                    self.react(item["room"], message_id, user, emoji)
        self.tickets = list(data.get("tickets", []))

    def add_user(self, _id: str, username: str, name: str = "", email: str = "", type: str = "user") -> None:
        self.users[_id] = {
            "_id": _id, "username": username, "name": name or username, "type": type, "active": True,
            "status": "online", "roles": ["bot"] if type == "bot" else ["user"],
            "emails": [{"address": email, "verified": True}] if email else [],
        }  # fmt: skip

    def add_room(self, _id: str, name: str, t: str = "c", bot_member: bool = True, members: list[str] = ()) -> None:  # type: ignore[assignment]
        people = set(members) or {u for u in self.users if u != self.bot.get("_id")}
        if bot_member:
            people.add(self.bot["_id"])
        moment = iso(self.clock.now())
        self.rooms[_id] = {"_id": _id, "t": t, "name": name, "fname": name, "ts": moment, "_updatedAt": moment,
                           "msgs": 0, "usersCount": len(people), "members": people}  # fmt: skip
        self.messages.setdefault(_id, [])
        self.trash.setdefault(_id, [])

    def room_id(self, name_or_id: str) -> str:
        for room in self.rooms.values():
            if name_or_id in (room["_id"], room.get("name")):
                return str(room["_id"])
        raise KeyError(name_or_id)

    def new_id(self) -> str:
        return "".join(self.rng.choice(ALPHABET) for _ in range(17))

    # people acting -------------------------------------------------------------------------
    def post_as(
        self,
        user: str,
        room: str,
        text: str,
        *,
        tmid: str | None = None,
        at: datetime | None = None,
        bot: bool = False,
        t: str | None = None,
        message_id: str | None = None,
    ) -> str:
        """``user`` posts in ``room`` (a reply when ``tmid``); the new message's ``_id``."""
        with self.lock:
            rid = self.room_id(room)
            author = self.users[user]
            moment = iso(at or self.clock.now())
            message: dict[str, Any] = {
                "_id": message_id or self.new_id(), "rid": rid, "msg": text, "ts": moment, "_updatedAt": moment,
                "u": {"_id": user, "username": author["username"], "name": author["name"]},
                "mentions": self._mentions(text), "channels": [],
            }  # fmt: skip
            if t:
                message["t"], message["groupable"] = t, False
            if bot:
                message["bot"] = {"i": "sandbox-integration"}
            if tmid:
                root = self.find(rid, tmid)
                if root is None:
                    raise KeyError(tmid)
                message["tmid"] = root.get("tmid") or tmid  # nested threads point at the root
                self._count_reply(rid, message["tmid"], moment, user)
            self.messages[rid].append(message)
            self.messages[rid].sort(key=lambda m: m["ts"])
            self.rooms[rid]["msgs"] += 1
            return str(message["_id"])

    def _mentions(self, text: str) -> list[dict[str, Any]]:
        found = []
        for username in dict.fromkeys(MENTION.findall(text)):
            if username in ("all", "here"):
                found.append({"_id": username, "username": username})
                continue
            user = next((u for u in self.users.values() if u["username"] == username), None)
            if user:
                found.append({"_id": user["_id"], "username": username, "name": user["name"], "type": "user"})
        return found

    def _count_reply(self, rid: str, tmid: str, moment: str, user: str) -> None:
        """``updateRepliesByThreadId``: ``$inc tcount``, ``$set tlm``, ``$addToSet replies``."""
        root = self.find(rid, tmid)
        assert root is not None
        root["tcount"] = root.get("tcount", 0) + 1
        root["tlm"] = max(root.get("tlm", moment), moment)
        root["replies"] = sorted(set(root.get("replies", [])) | {user})
        root["_updatedAt"] = iso(self.clock.now())

    def find(self, rid: str, message_id: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(rid, []) if m["_id"] == message_id), None)

    def find_anywhere(self, message_id: str) -> dict[str, Any] | None:
        return next((m for ms in self.messages.values() for m in ms if m["_id"] == message_id), None)

    def edit(self, room: str, message_id: str, text: str) -> None:
        with self.lock:
            message = self.find(self.room_id(room), message_id)
            assert message is not None
            now = iso(self.clock.now())
            message.update(msg=text, editedAt=now, _updatedAt=now, mentions=self._mentions(text))
            message["editedBy"] = {"_id": message["u"]["_id"], "username": message["u"]["username"]}

    def delete(self, room: str, message_id: str) -> None:
        """Remove a message to the trash (``Message_ShowDeletedStatus`` off, the default); a reply
        lowers its root's ``tcount``."""
        with self.lock:
            rid = self.room_id(room)
            message = self.find(rid, message_id)
            assert message is not None
            self.messages[rid].remove(message)
            now = iso(self.clock.now())
            self.trash[rid].append({"_id": message_id, "_deletedAt": now, "ts": message["ts"]})
            root = self.find(rid, message.get("tmid") or "")
            if root is not None:
                root["tcount"] = max(0, root.get("tcount", 1) - 1)
                root["_updatedAt"] = now

    def react(self, room: str, message_id: str, user: str, emoji: str, should: bool | None = True) -> bool:
        """``user`` sets (``should`` True), unsets (False) or toggles (None) a reaction; whether it changed."""
        with self.lock:
            message = self.find(self.room_id(room), message_id)
            if message is None:
                raise KeyError(message_id)
            key = f":{emoji.strip(':')}:"
            username = self.users[user]["username"]
            reactions = message.setdefault("reactions", {})
            names = reactions.setdefault(key, {"usernames": []})["usernames"]
            present = username in names
            wanted = (not present) if should is None else should
            if wanted == present:
                return False
            if wanted:
                names.append(username)
            else:
                names.remove(username)
                if not names:
                    del reactions[key]
            message["_updatedAt"] = iso(self.clock.now())
            return True

    def inject(self, endpoint: str, kind: str, times: int = 1, **options: Any) -> None:
        """Make the next ``times`` calls of an endpoint fail (see the module docstring)."""
        book = self.faults if kind in TRANSPORT_FAULTS else self.api_faults
        book.inject(endpoint, kind, times, **options)

    @property
    def calls(self) -> dict[str, int]:
        """Calls received per endpoint."""
        return self.faults.calls

    def bot_posts(self) -> list[dict[str, Any]]:
        """Every message and reaction the bot sent, in order."""
        with self.lock:
            return list(self.posts)


class RocketChatApi:
    """The REST endpoints over a :class:`RocketChatState`."""

    def __init__(self, state: RocketChatState) -> None:
        self.state = state

    def handle(self, request: Request) -> Reply:
        endpoint = request.groups[0]
        with self.state.lock:
            try:
                caller = self._caller(request)
                headers = self._rate(endpoint, request.method, caller)
                self._injected(endpoint)
                handler = getattr(self, f"{request.method.lower()}_{endpoint.replace('.', '_')}", None)
                if handler is None:
                    return 404, {"success": False, "error": "Resource not found"}, {}
                params = request.query if request.method == "GET" else request.body
                if request.method == "GET":
                    self._known_params(endpoint, request.query)
                body = handler(params if isinstance(params, dict) else {}, caller)
                return 200, {**body, "success": True}, headers
            except ApiError as exc:
                return exc.status, exc.body, exc.headers

    # plumbing -------------------------------------------------------------------------------
    def _caller(self, request: Request) -> str:
        headers = {k.lower(): v for k, v in request.headers.items()}
        user_id, token = headers.get("x-user-id", ""), headers.get("x-auth-token", "")
        if not user_id or not token or self.state.tokens.get(token) != user_id:
            raise _logged_out()
        return user_id

    def _rate(self, endpoint: str, method: str, caller: str) -> dict[str, str]:
        """The REST rate limiter: a fixed window from the first hit, headers on every checked call."""
        if caller == self.state.bot.get("_id") and not self.state.rate_limit:
            return {}
        now = self.state.clock.now()
        start, used = self.state.windows.get((endpoint, method), (now, 0))
        if now >= start + self.state.rate_window:
            start, used = now, 0
        used += 1
        self.state.windows[(endpoint, method)] = (start, used)
        reset = start + self.state.rate_window
        headers = {
            "X-RateLimit-Limit": str(self.state.rate_calls),
            "X-RateLimit-Remaining": str(max(0, self.state.rate_calls - used)),
            "X-RateLimit-Reset": str(int(reset.timestamp() * 1000)),
        }
        if used > self.state.rate_calls:
            raise _too_many((reset - now).total_seconds(), headers)
        return headers

    def _injected(self, endpoint: str) -> None:
        fault = self.state.api_faults.take(endpoint)
        if fault is None:
            return
        if fault.kind == "ratelimited":
            reset = self.state.clock.now() + timedelta(seconds=fault.retry_after)
            headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": str(int(reset.timestamp() * 1000))}  # fmt: skip
            raise _too_many(fault.retry_after, headers)
        if fault.kind == "unauthorized":
            raise _logged_out()
        if fault.kind == "forbidden":
            raise ApiError("", "unauthorized", 403)
        raise ApiError(fault.kind.split(":", 1)[1], "", 400)

    @staticmethod
    def _known_params(endpoint: str, query: dict[str, str]) -> None:
        allowed = ALLOWED.get(endpoint)
        unknown = sorted(set(query) - allowed) if allowed is not None else []
        if unknown:
            raise ApiError("invalid-params", f"must NOT have additional properties '{unknown[0]}'")

    def _page(self, items: list[Any], params: dict[str, Any], default: int = 50, cap: int | None = 100) -> list[Any]:
        """getPaginationItems: ``count`` default 50, clamped to 100, 0 for all; ``offset`` default 0."""
        count = int(params.get("count") or default) if params.get("count") != "0" else 0
        if cap is not None and count > cap:
            count = cap
        offset = int(params.get("offset") or 0)
        return items[offset : offset + count] if count else items[offset:]

    def _listing(self, key: str, items: list[Any], params: dict[str, Any]) -> dict[str, Any]:
        page = self._page(items, params)
        return {key: page, "count": len(page), "offset": int(params.get("offset") or 0), "total": len(items)}

    def _room_view(self, room: dict[str, Any]) -> dict[str, Any]:
        return {k: (sorted(v) if isinstance(v, set) else v) for k, v in room.items() if k != "members"}

    def _user_view(self, user: dict[str, Any], caller: str) -> dict[str, Any]:
        full = caller == user["_id"] or "view-full-other-user-info" in self.state.users[caller].get("permissions", [])
        hidden = set() if full else {"emails", "roles", "permissions"}
        return {k: v for k, v in user.items() if k not in hidden and k != "permissions"}

    def _history_room(self, params: dict[str, Any], caller: str, kind: str) -> dict[str, Any]:
        wanted = params.get("roomId") or params.get("roomName")
        if not wanted:
            raise ApiError("error-room-param-not-provided", 'The parameter "roomId" or "roomName" is required')
        room = next((r for r in self.state.rooms.values() if wanted in (r["_id"], r["name"]) and r["t"] == kind), None)
        label = "channel" if kind == "c" else "group"
        if room is None or (kind == "p" and caller not in room["members"]):
            raise ApiError(
                "error-room-not-found", f'The required "roomId" or "roomName" param provided does not match any {label}'
            )
        if caller not in room["members"]:
            raise ApiError("", "unauthorized", 403)
        return room

    def _history(self, params: dict[str, Any], caller: str, kind: str) -> dict[str, Any]:
        room = self._history_room(params, caller, kind)
        inclusive = params.get("inclusive") == "true"
        default_threads = "true" if kind == "p" else "false"
        threads = params.get("showThreadMessages", default_threads) != "false"
        latest = parse(params["latest"]) if params.get("latest") else self.state.clock.now() + timedelta(days=1)
        oldest = parse(params["oldest"]) if params.get("oldest") else None

        def inside(message: dict[str, Any]) -> bool:
            ts = parse(message["ts"])
            before = ts <= latest if inclusive else ts < latest
            after = oldest is None or (ts >= oldest if inclusive else ts > oldest)
            shown = threads or "tmid" not in message or message.get("tshow")
            return before and after and bool(shown) and not message.get("_hidden")

        found = sorted((m for m in self.state.messages[room["_id"]] if inside(m)), key=lambda m: m["ts"], reverse=True)
        page = self._page(found, params, 50, 100) if kind == "c" else self._page(found, params, 20, None)
        return {"messages": page}

    # endpoints ------------------------------------------------------------------------------
    def get_me(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        return dict(self._user_view(self.state.users[caller], caller))

    def get_channels_list(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        rooms = sorted((r for r in self.state.rooms.values() if r["t"] == "c"), key=lambda r: r["name"])
        return self._listing("channels", [self._room_view(r) for r in rooms], params)

    def get_channels_list_joined(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        rooms = [r for r in self.state.rooms.values() if r["t"] == "c" and caller in r["members"]]
        return self._listing("channels", [self._room_view(r) for r in sorted(rooms, key=lambda r: r["name"])], params)

    def get_groups_list(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        rooms = [r for r in self.state.rooms.values() if r["t"] == "p" and caller in r["members"]]
        return self._listing("groups", [self._room_view(r) for r in sorted(rooms, key=lambda r: r["name"])], params)

    def get_channels_history(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        return self._history(params, caller, "c")

    def get_groups_history(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        return self._history(params, caller, "p")

    def get_chat_getThreadMessages(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        root = self.state.find_anywhere(str(params.get("tmid") or ""))
        if root is None:
            raise ApiError("error-invalid-message", "Invalid Message")
        if caller not in self.state.rooms[root["rid"]]["members"]:
            raise ApiError("error-not-allowed", "Not Allowed")
        replies = sorted(
            (m for m in self.state.messages[root["rid"]] if m.get("tmid") == root["_id"]), key=lambda m: m["ts"]
        )
        return self._listing("messages", replies, params)

    def get_chat_getMessage(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        message = self.state.find_anywhere(str(params.get("msgId") or ""))
        if message is None:
            raise ApiError("", "", 400)  # API.v1.failure() without arguments: {"success": false}
        if caller not in self.state.rooms[message["rid"]]["members"]:
            raise ApiError("error-not-allowed", "Not allowed")
        return {"message": message}

    def get_chat_syncMessages(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        rid = str(params.get("roomId") or "")
        if not rid:
            raise ApiError("error-param-required", 'The required "roomId" query param is missing')
        if not params.get("lastUpdate"):
            raise ApiError("error-param-required", 'The "type" or "lastUpdate" parameters must be provided')
        try:
            since = parse(str(params["lastUpdate"]))
        except ValueError:
            raise ApiError(
                "error-lastUpdate-param-invalid", 'The "lastUpdate" query parameter must be a valid date'
            ) from None
        if rid not in self.state.rooms or caller not in self.state.rooms[rid]["members"]:
            raise ApiError("error-not-allowed", "Not allowed")
        updated = [m for m in self.state.messages[rid] if parse(m["_updatedAt"]) > since and not m.get("_hidden")]
        deleted = [d for d in self.state.trash[rid] if parse(d["_deletedAt"]) > since]
        gone = [{"_id": d["_id"], "_deletedAt": d["_deletedAt"]} for d in sorted(deleted, key=_ts, reverse=True)]
        return {"result": {"updated": sorted(updated, key=_ts, reverse=True), "deleted": gone}}

    def get_users_info(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        if not params.get("userId") and not params.get("username"):
            raise ApiError("", "Invalid search query.")
        user = next(
            (
                u
                for u in self.state.users.values()
                if params.get("userId") == u["_id"] or params.get("username") == u["username"]
            ),
            None,
        )
        if user is None:
            raise ApiError("", "User not found.")
        return {"user": self._user_view(user, caller)}

    def get_users_list(self, params: dict[str, Any], caller: str) -> dict[str, Any]:
        users = sorted(self.state.users.values(), key=lambda u: u["username"])
        return self._listing("users", [self._user_view(u, caller) for u in users], params)

    def post_chat_sendMessage(self, body: dict[str, Any], caller: str) -> dict[str, Any]:
        message = body.get("message")
        if not isinstance(message, dict) or set(body) - {"message", "previewUrls"}:
            raise ApiError("invalid-params", "must have required property 'message'")
        rid = str(message.get("rid") or "")
        if rid not in self.state.rooms or caller not in self.state.rooms[rid]["members"]:
            raise ApiError("error-not-allowed", "Not allowed")
        text = str(message.get("msg") or "")
        if len(text) > 5000:
            raise ApiError("error-message-size-exceeded", "Message size exceeds the maximum allowed")
        if message.get("tmid") and self.state.find(rid, str(message["tmid"])) is None:
            raise ApiError("error-invalid-message", "Invalid Message")
        if message.get("_id") and self.state.find_anywhere(str(message["_id"])) is not None:
            # sendMessage() returns without inserting; the REST reply is then built from undefined
            raise ApiError("", "Cannot read properties of undefined (reading 'starred')")
        tmid = str(message["tmid"]) if message.get("tmid") else None
        message_id = self.state.post_as(caller, rid, text, tmid=tmid, message_id=message.get("_id") or None)
        kind = "dm" if self.state.rooms[rid]["t"] == "d" else ("thread_reply" if tmid else "message")
        self.state.posts.append({"kind": kind, "rid": rid, "_id": message_id, "tmid": tmid, "msg": text})
        return {"message": self.state.find(rid, message_id)}

    def post_chat_react(self, body: dict[str, Any], caller: str) -> dict[str, Any]:
        message = self.state.find_anywhere(str(body.get("messageId") or ""))
        if message is None:
            raise ApiError("error-message-not-found", "Message not found")
        match = EMOJI.match(str(body.get("emoji") or body.get("reaction") or ""))
        if match is None:
            raise ApiError("error-not-allowed", "Invalid emoji provided.")
        if caller not in self.state.rooms[message["rid"]]["members"]:
            raise ApiError("error-not-allowed", "Not allowed")
        should = body.get("shouldReact")
        if self.state.react(message["rid"], message["_id"], caller, match.group(1), should):
            self.state.posts.append(
                {"kind": "reaction", "rid": message["rid"], "_id": message["_id"], "msg": match.group(1)}
            )
        return {}

    def post_im_create(self, body: dict[str, Any], caller: str) -> dict[str, Any]:
        """createDirectMessage: the room id is the two user ids sorted and joined; ``error-invalid-user``
        for a username nobody has; the answer is the room with ``rid`` beside ``_id``."""
        username = str(body.get("username") or "")
        other = next((u for u in self.state.users.values() if u["username"] == username), None)
        if other is None:
            raise ApiError("error-invalid-user", "Invalid user")
        rid = "".join(sorted([caller, other["_id"]]))
        if rid not in self.state.rooms:
            self.state.add_room(rid, "", "d", bot_member=False, members=[caller, other["_id"]])
            self.state.rooms[rid]["usernames"] = sorted([self.state.users[caller]["username"], username])
        room = self._room_view(self.state.rooms[rid])
        return {"room": {**room, "rid": rid}}


def _ts(item: dict[str, Any]) -> str:
    return str(item["ts"])


def _logged_out() -> ApiError:
    """401 as the 7.x/8.x authentication middleware answers it (``status``/``message`` kept for compatibility)."""
    error = ApiError("", LOGGED_OUT, 401)
    error.body.update(status="error", message=LOGGED_OUT)
    return error


def _too_many(seconds: float, headers: dict[str, str]) -> ApiError:
    wait = math.ceil(seconds)
    reason = (
        "Error, too many requests. Please slow down. You must wait "
        f"{wait} seconds before trying this endpoint again. [error-too-many-requests]"
    )
    return ApiError("", reason, 429, headers)


class RocketChatSandbox:
    """Serve a :class:`RocketChatState` on 127.0.0.1 in a background thread (a context manager)."""

    def __init__(self, state: RocketChatState) -> None:
        self.state = state
        handle = RocketChatApi(state).handle
        routes = [("GET", r"/api/v1/([\w.]+)", "{0}", handle), ("POST", r"/api/v1/([\w.]+)", "{0}", handle)]
        self._server = JsonApiServer(routes, state.faults)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def token(self) -> str:
        """The bot's credentials as ``ChatBuild.token`` carries them: ``<user id>:<token>``."""
        return f"{self.state.bot['_id']}:{self.state.bot['token']}"

    def start(self) -> RocketChatSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> RocketChatSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
