from __future__ import annotations

import pytest
import structlog

from hygiene.logs import configure, redact, register_secrets


def test_tokens_are_masked_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    register_secrets(["s3cr3t-value-123"])
    configure("info", json_output=True)
    structlog.get_logger("t").info(
        "event", token="xoxb-not-real-abcdef", nested={"auth": "Bearer abc.def"}, other="s3cr3t-value-123"
    )
    err = capsys.readouterr().err
    assert "xoxb-not-real" not in err and "abc.def" not in err and "s3cr3t-value-123" not in err
    assert err.count("***") == 3


def test_redact_plain_text() -> None:
    assert redact("failed with xoxp-99-aa and xapp-1-A1") == "failed with *** and ***"
