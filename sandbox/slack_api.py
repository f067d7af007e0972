"""A faithful subset of the Slack Web API, served over HTTP on loopback.

Shapes and error codes follow Slack's documentation: ``ok``/``error`` envelopes, cursor
pagination in ``response_metadata.next_cursor``, newest-first history, replies with the parent
first, ``metadata`` returned only with ``include_all_metadata``, ``invalid_auth``,
``not_authed``, ``channel_not_found``, ``not_in_channel``, ``thread_not_found``,
``already_reacted``, 429 with ``Retry-After``. Faults can be injected per method (rate limits,
5xx, timeouts, malformed JSON), and every post the bot makes is recorded so that tests and the
demo count what really arrived.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hygiene.clock import Clock, SystemClock
from sandbox.http_server import FaultBook, Handler, JsonApiServer, Reply, Request

SCENARIOS = Path(__file__).parent / "scenarios"


@dataclass
class SlackState:
    clock: Clock
    team_id: str = "T0SANDBOX"
    team_name: str = "Sandbox"
    bot: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: FaultBook = field(default_factory=FaultBook)
    posts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    app_token: str = "xapp-1-A0SANDBOX-sandbox"
    """The app-level token Socket Mode's ``apps.connections.open`` takes (and nothing else does)."""
    socket_url: str = ""
    """Where ``apps.connections.open`` sends clients (set by :class:`sandbox.socket_mode.SocketModeServer`)."""
    listeners: list[Callable[[dict[str, Any]], object]] = field(default_factory=list)
    """Told every Events API event (``message``, ``reaction_added`` …) as Slack would push it."""
    views: list[dict[str, Any]] = field(default_factory=list)
    """Forms opened with ``views.open``, newest last."""
    _last_micros: int = 0
    _used: set[int] = field(default_factory=set)

    # seeding -------------------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, name_or_path: str | Path, clock: Clock | None = None) -> SlackState:
        path = Path(name_or_path)
        if not path.exists():
            path = SCENARIOS / f"{name_or_path}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        state = cls(clock=clock or SystemClock())
        state.load(data)
        return state

    def load(self, data: dict[str, Any]) -> None:
        team = data.get("team", {})
        self.team_id = team.get("id", self.team_id)
        self.team_name = team.get("name", self.team_name)
        bot = data["bot"]
        self.bot = bot
        self.tokens[bot["token"]] = bot["user_id"]
        self.users[bot["user_id"]] = {
            "id": bot["user_id"],
            "name": bot["name"],
            "is_bot": True,
            "deleted": False,
            "profile": {"display_name": bot["name"], "real_name": bot["name"], "bot_id": bot["bot_id"]},
        }
        for user in data.get("users", []):
            self.add_user(**user)
        for channel in data.get("channels", []):
            self.add_channel(**channel)
        keys: dict[str, str] = {}
        now = self.clock.now()
        for item in data.get("messages", []):
            channel = self.channel_id(item["channel"])
            thread = keys.get(item["thread"]) if item.get("thread") else None
            at = now - timedelta(minutes=float(item.get("minutes_ago", 0)))
            ts = self.post_as(item["user"], channel, item["text"], thread_ts=thread, at=at, bot=item.get("bot", False))
            if item.get("key"):
                keys[item["key"]] = ts
            for emoji, users in item.get("reactions", {}).items():
                for user in users:
                    self.react(channel, ts, user, emoji)

    def add_user(self, id: str, name: str, real_name: str = "", email: str = "", is_bot: bool = False) -> None:
        self.users[id] = {
            "id": id,
            "name": name,
            "real_name": real_name or name,
            "is_bot": is_bot,
            "deleted": False,
            "profile": {"display_name": name, "real_name": real_name or name, "email": email},
        }

    def add_channel(self, id: str, name: str, is_member: bool = True, is_private: bool = False) -> None:
        self.channels[id] = {
            "id": id,
            "name": name,
            "is_channel": True,
            "is_private": is_private,
            "is_member": is_member,
            "is_archived": False,
            "created": 1700000000,
        }
        self.messages.setdefault(id, [])

    def channel_id(self, name_or_id: str) -> str:
        for channel in self.channels.values():
            if channel["name"] == name_or_id or channel["id"] == name_or_id:
                return str(channel["id"])
        raise KeyError(name_or_id)

    # people acting in the workspace --------------------------------------------------------
    def _next_ts(self, at: datetime | None) -> str:
        """A unique ts: the moment in integer microseconds, bumped past any ts already used."""
        micros = round((at or self.clock.now()).timestamp() * 1_000_000)
        if at is None:
            micros = max(micros, self._last_micros + 1)
        while micros in self._used:
            micros += 1
        self._used.add(micros)
        self._last_micros = max(self._last_micros, micros)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def post_as(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        at: datetime | None = None,
        bot: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        with self.lock:
            channel = self.channel_id(channel)
            ts = self._next_ts(at)
            message: dict[str, Any] = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "team": self.team_id,
            }
            if bot:
                message["bot_id"] = self.bot["bot_id"] if user == self.bot["user_id"] else f"B{user}"
                message["app_id"] = "A0SANDBOX"
            if metadata:
                message["metadata"] = metadata
            if thread_ts:
                parent = self.find(channel, thread_ts)
                if parent is None:
                    raise KeyError(thread_ts)
                message["thread_ts"] = thread_ts
                message["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = max(parent.get("latest_reply", ts), ts)
                parent["reply_users"] = sorted(set(parent.get("reply_users", [])) | {user})
                parent["reply_users_count"] = len(parent["reply_users"])
            self.messages[channel].append(message)
            self.messages[channel].sort(key=lambda m: float(m["ts"]))
            if at is None:
                self.notify({**message, "channel": channel, "event_ts": ts})
            return ts

    def notify(self, event: dict[str, Any]) -> None:
        """Push one Events API event to whoever listens (the Socket Mode server)."""
        for listener in list(self.listeners):
            listener(event)

    def find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def edit(self, channel: str, ts: str, text: str) -> None:
        with self.lock:
            message = self.find(self.channel_id(channel), ts)
            assert message is not None
            message["text"] = text
            message["edited"] = {"user": message.get("user"), "ts": self._next_ts(None)}
            changed = {"type": "message", "subtype": "message_changed", "message": dict(message)}
            self.notify({**changed, "channel": self.channel_id(channel), "event_ts": message["edited"]["ts"]})

    def delete(self, channel: str, ts: str) -> None:
        with self.lock:
            channel = self.channel_id(channel)
            message = self.find(channel, ts)
            assert message is not None
            self.messages[channel].remove(message)
            self.notify({"type": "message", "subtype": "message_deleted", "channel": channel, "deleted_ts": ts})
            parent_ts = message.get("thread_ts")
            if parent_ts and parent_ts != ts and (parent := self.find(channel, parent_ts)):
                parent["reply_count"] = max(0, parent.get("reply_count", 1) - 1)

    def react(self, channel: str, ts: str, user: str, name: str) -> bool:
        with self.lock:
            message = self.find(self.channel_id(channel), ts)
            if message is None:
                raise KeyError(ts)
            reactions = message.setdefault("reactions", [])
            entry = next((r for r in reactions if r["name"] == name), None)
            if entry is None:
                entry = {"name": name, "users": [], "count": 0}
                reactions.append(entry)
            if user in entry["users"]:
                return False
            entry["users"].append(user)
            entry["count"] = len(entry["users"])
            item = {"type": "message", "channel": self.channel_id(channel), "ts": ts}
            self.notify({"type": "reaction_added", "user": user, "reaction": name, "item": item})
            return True

    def inject(self, method: str, kind: str, times: int = 1, **options: Any) -> None:
        """Make the next ``times`` calls of a Slack method fail (see :class:`Fault`)."""
        self.faults.inject(method, kind, times, **options)

    @property
    def calls(self) -> dict[str, int]:
        """Calls received per Slack method."""
        return self.faults.calls

    def bot_posts(self) -> list[dict[str, Any]]:
        """Every message and ephemeral the bot posted, in order."""
        with self.lock:
            return list(self.posts)


class ApiError(Exception):
    def __init__(self, error: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.error, self.status, self.headers = error, status, headers or {}


class SlackApi:
    """The Web API methods over a :class:`SlackState`."""

    def __init__(self, state: SlackState) -> None:
        self.state = state

    def dispatch(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            raise ApiError("unknown_method", 404)
        if not token:
            raise ApiError("not_authed")
        if method == "apps.connections.open" or token == self.state.app_token:
            if token != self.state.app_token:
                raise ApiError("not_allowed_token_type")
            if method != "apps.connections.open":
                raise ApiError("not_allowed_token_type")
        elif token not in self.state.tokens:
            raise ApiError("invalid_auth")
        with self.state.lock:
            return {"ok": True, **handler(params)}

    # helpers ------------------------------------------------------------------------------
    def _channel(self, params: dict[str, Any], *, member: bool = True) -> str:
        channel_id = str(params.get("channel") or "")
        channel = self.state.channels.get(channel_id)
        if channel is None:
            raise ApiError("channel_not_found")
        if member and not channel.get("is_member", True):
            raise ApiError("not_in_channel")
        return channel_id

    @staticmethod
    def _page(items: list[Any], params: dict[str, Any], default: int = 100) -> tuple[list[Any], dict[str, Any]]:
        limit = max(1, min(int(params.get("limit") or default), 999))
        cursor = params.get("cursor")
        offset = 0
        if cursor:
            try:
                offset = int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
            except (ValueError, IndexError):
                raise ApiError("invalid_cursor") from None
        page = items[offset : offset + limit]
        next_offset = offset + limit
        more = next_offset < len(items)
        meta = {"next_cursor": base64.b64encode(f"offset:{next_offset}".encode()).decode() if more else ""}
        return page, {"has_more": more, "response_metadata": meta}

    def _view(self, message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        view = dict(message)
        if not _truthy(params.get("include_all_metadata")):
            view.pop("metadata", None)
        return view

    def _window(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
        inclusive = _truthy(params.get("inclusive"))
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or 9e12)

        def inside(ts: float) -> bool:
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        return [m for m in messages if inside(float(m["ts"]))]

    # methods ------------------------------------------------------------------------------
    def m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        bot = self.state.bot
        return {
            "url": "https://sandbox.slack.local/",
            "team": self.state.team_name,
            "user": bot["name"],
            "team_id": self.state.team_id,
            "user_id": bot["user_id"],
            "bot_id": bot["bot_id"],
        }

    def m_conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        channels = [dict(c) for c in self.state.channels.values() if not c["id"].startswith("D")]
        page, meta = self._page(channels, params, default=100)
        return {"channels": page, **meta}

    def m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        top = [
            m
            for m in self.state.messages[channel]
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        newest_first = list(reversed(self._window(top, params)))
        page, meta = self._page(newest_first, params, default=100)
        return {"messages": [self._view(m, params) for m in page], "pin_count": 0, **meta}

    def m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        thread_ts = str(params.get("ts") or "")
        parent = self.state.find(channel, thread_ts)
        if parent is None:
            raise ApiError("thread_not_found")
        replies = [m for m in self.state.messages[channel] if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]
        items = [parent, *self._window(replies, params)]
        page, meta = self._page(items, params, default=100)
        return {"messages": [self._view(m, params) for m in page], **meta}

    def m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.state.users.get(str(params.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user}

    def m_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email") or "").lower()
        for user in self.state.users.values():
            if user["profile"].get("email", "").lower() == email and email:
                return {"user": user}
        raise ApiError("users_not_found")

    def m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel") or "")
        if channel_id.startswith("D") and channel_id not in self.state.channels:
            raise ApiError("channel_not_found")
        channel = self._channel(params)
        text = params.get("text")
        if not text and not params.get("blocks"):
            raise ApiError("no_text")
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        thread_ts = params.get("thread_ts") or None
        if thread_ts and self.state.find(channel, str(thread_ts)) is None:
            raise ApiError("thread_not_found")
        bot = self.state.bot
        ts = self.state.post_as(
            bot["user_id"], channel, str(text or ""), thread_ts=thread_ts, bot=True, metadata=metadata
        )
        message = self.state.find(channel, ts)
        assert message is not None
        if params.get("blocks"):
            message["blocks"] = (
                params["blocks"] if not isinstance(params["blocks"], str) else json.loads(params["blocks"])
            )
        self.state.posts.append(
            {
                "kind": "dm" if channel.startswith("D") else ("thread_reply" if thread_ts else "message"),
                "channel": channel,
                "ts": ts,
                "thread_ts": thread_ts,
                "text": text,
                "metadata": metadata,
            }
        )
        return {"channel": channel, "ts": ts, "message": message}

    def m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        user = str(params.get("user") or "")
        if user not in self.state.users:
            raise ApiError("user_not_found")
        ts = f"{self.state.clock.now().timestamp():.6f}"
        self.state.posts.append(
            {
                "kind": "ephemeral",
                "channel": channel,
                "ts": ts,
                "thread_ts": params.get("thread_ts"),
                "text": params.get("text"),
                "user": user,
                "metadata": None,
            }
        )
        return {"message_ts": ts}

    def m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params, member=False)
        ts = str(params.get("message_ts") or "")
        if self.state.find(channel, ts) is None:
            raise ApiError("message_not_found")
        return {
            "channel": channel,
            "permalink": f"https://sandbox.slack.local/archives/{channel}/p{ts.replace('.', '')}",
        }

    def m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("users") or "").split(",")[0]
        if user not in self.state.users:
            raise ApiError("user_not_found")
        dm = "D" + user.lstrip("UW")
        if dm not in self.state.channels:
            self.state.channels[dm] = {"id": dm, "name": dm, "is_im": True, "user": user, "is_member": True}
            self.state.messages[dm] = []
        return {"channel": {"id": dm}}

    def m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """A WebSocket URL for Socket Mode (app-level token only)."""
        if not self.state.socket_url:
            raise ApiError("socket_mode_not_enabled")
        return {"url": self.state.socket_url}

    def m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        ts = str(params.get("ts") or "")
        message = self.state.find(channel, ts)
        if message is None:
            raise ApiError("message_not_found")
        if message.get("user") != self.state.bot["user_id"]:
            raise ApiError("cant_update_message")
        blocks = params.get("blocks")
        message["text"] = str(params.get("text") or "")
        message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else (blocks or [])
        self.state.posts.append({"kind": "edit", "channel": channel, "ts": ts, "text": message["text"]})
        return {"channel": channel, "ts": ts, "text": message["text"]}

    def m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            raise ApiError("invalid_trigger_id")
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else dict(view or {})
        view["id"] = f"V{len(self.state.views) + 1:08d}"
        self.state.views.append(view)
        return {"view": view}

    def m_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.state.channels[self._channel(params, member=False)]
        members = channel.get("members")
        if members is None:
            members = [u["id"] for u in self.state.users.values() if not u.get("is_bot")]
        page, meta = self._page(list(members), params, default=100)
        return {"members": page, **meta}

    def m_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        ts = str(params.get("timestamp") or "")
        if self.state.find(channel, ts) is None:
            raise ApiError("message_not_found")
        if not self.state.react(channel, ts, self.state.bot["user_id"], str(params.get("name") or "")):
            raise ApiError("already_reacted")
        self.state.posts.append({"kind": "reaction", "channel": channel, "ts": ts, "text": params.get("name")})
        return {}


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _route(api: SlackApi) -> Handler:
    def handle(request: Request) -> Reply:
        params = {**request.query, **(request.body if isinstance(request.body, dict) else {})}
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else params.get("token")
        try:
            return 200, api.dispatch(request.groups[0], params, token), {}
        except ApiError as exc:
            return exc.status, {"ok": False, "error": exc.error}, exc.headers

    return handle


class SlackSandbox:
    """Serve a :class:`SlackState` on 127.0.0.1 in a background thread (a context manager)."""

    def __init__(self, state: SlackState) -> None:
        self.state = state
        handle = _route(SlackApi(state))
        routes = [("GET", r"/api/([\w.]+)", "{0}", handle), ("POST", r"/api/([\w.]+)", "{0}", handle)]
        self._server = JsonApiServer(routes, state.faults)

    @property
    def base_url(self) -> str:
        return f"{self._server.base_url}/api/"

    @property
    def token(self) -> str:
        return str(self.state.bot["token"])

    def start(self) -> SlackSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> SlackSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
