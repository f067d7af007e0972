"""The shared retry policy: causes named in words, writes never retried after an unsure failure."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests

from connectors.retry import Retry, SleepBudget, SleepCapReached, Unsure, connection_cause, retrying


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (requests.ConnectionError(socket.gaierror(-2, "Name or service not known")), "DNS lookup failed (h)"),
        (requests.exceptions.SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed")), "TLS error (h)"),
        (requests.ConnectionError(ConnectionRefusedError(111, "Connection refused")), "connection refused (h)"),
        (requests.ConnectionError(ConnectionResetError(104, "reset by peer")), "connection reset (h)"),
        (TimeoutError("timed out"), "timed out (h)"),
    ],
)
def test_connection_errors_name_their_cause(error: BaseException, words: str) -> None:
    assert words in connection_cause(error, "h")


def test_a_write_is_tried_once_after_an_unsure_failure_and_a_read_retries() -> None:
    budget = SleepBudget(lambda _: None, cap=60)
    for idempotent, expected in ((False, 1), (True, 3)):
        tries = 0
        with pytest.raises(Unsure):
            for attempt in retrying(2, budget, idempotent=idempotent):
                with attempt:
                    tries += 1
                    raise Unsure("HTTP 500")
        assert tries == expected


def test_a_refused_write_may_be_retried_and_sleeping_stops_at_the_cap() -> None:
    slept: list[float] = []
    budget = SleepBudget(slept.append, cap=1.0)
    with pytest.raises((Retry, SleepCapReached)):
        for attempt in retrying(10, budget, idempotent=False):
            with attempt:
                raise Retry("rate limited")
    assert sum(slept) <= 1.0 and len(slept) >= 1
