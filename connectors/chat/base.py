"""What every chat connector answers the same way on the chat port: hygiene's own user id (as
:meth:`connect` learned it), the API calls its client counted, and the people it looked up."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar


class CountsCalls(Protocol):
    def calls(self) -> dict[str, int]: ...


Api = TypeVar("Api", bound=CountsCalls)


class ChatConnector(Generic[Api]):
    """The bookkeeping part of a connector over the client ``api``; the connector sets the fields."""

    api: Api
    _bot_user_id: str
    new_users: dict[str, tuple[str, bool]]

    @property
    def bot_user_id(self) -> str:
        return self._bot_user_id

    def calls(self) -> dict[str, int]:
        return self.api.calls()

    def learned_users(self) -> dict[str, tuple[str, bool]]:
        return dict(self.new_users)
