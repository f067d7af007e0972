"""hygiene: keeps client work in the helpdesk and chat in the chat."""

__version__ = "0.1.0"
