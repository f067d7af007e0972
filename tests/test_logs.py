from __future__ import annotations

import pytest
import structlog

from hygiene.logs import configure, mask_tokens, redact, register_secrets


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


def test_token_shapes_are_masked_but_ids_paths_and_prose_are_not() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    text = (
        f"Authorization: Basic dXNlcjpwYXNzd29yZA== token {jwt} at https://api.example/x?client_secret=s3&page=2 "
        "key ZdA1b2C3d4E5f6G7h8I9j0KlMnOpQrSt"
    )
    assert redact(text) == "Authorization: *** token *** at https://api.example/x?***&page=2 key ***"
    kept = "HY101:C01DIADIA:1763700000.000100 /tmp/state/hygiene.db 3f2a9c0d1e4b5a6f7e8d9c0b1a2f3e4d Basic plan"
    assert redact(kept) == kept


def test_chat_text_masks_only_sure_token_shapes() -> None:
    assert mask_tokens("meu token xoxb-123-abc, plano Basic plan") == "meu token ***, plano Basic plan"
    doc = "https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz123/edit"
    assert mask_tokens(doc) == doc, "links in chat stay links"
