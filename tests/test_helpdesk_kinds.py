"""The registry of helpdesk kinds: every kind is tested by the contract, built by its own KIND."""

from __future__ import annotations

import importlib
import inspect

import pytest

from hygiene import config as config_module
from hygiene.errors import ConfigError
from hygiene.kinds import helpdesk_kinds
from hygiene.wiring import build_helpdesk
from tests.contracts.helpdesk import HelpdeskContract, HttpHelpdeskContract


def test_the_built_in_helpdesks_are_registered() -> None:
    assert set(helpdesk_kinds()) >= {"files", "gclick", "zendesk"}


@pytest.mark.parametrize("name", sorted(helpdesk_kinds()))
def test_every_helpdesk_kind_has_a_contract_test_module(name: str) -> None:
    module = importlib.import_module(f"tests.test_helpdesk_{name}")
    suites = [
        member
        for _, member in inspect.getmembers(module, inspect.isclass)
        if issubclass(member, HelpdeskContract) and member not in (HelpdeskContract, HttpHelpdeskContract)
    ]
    assert suites, f"tests/test_helpdesk_{name}.py has no HelpdeskContract subclass"
    assert all(suite.__name__.startswith("Test") and suite.harness_class for suite in suites)


def test_without_a_config_every_kinds_secret_variables_are_masked() -> None:
    names = config_module.secret_env_names()
    assert {"SLACK_BOT_TOKEN", "GCLICK_CLIENT_ID", "GCLICK_CLIENT_SECRET", "ZENDESK_API_TOKEN"} <= set(names)


def test_with_a_config_only_its_helpdesks_secret_variables() -> None:
    config = config_module.parse(
        {"slack": {"channels": ["a"]}, "helpdesk": {"kind": "zendesk", "subdomain": "acme", "email": "a@b.c"}}
    )
    assert config_module.secret_env_names(config) == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "ZENDESK_API_TOKEN"]


def test_no_helpdesk_builds_nothing() -> None:
    config = config_module.parse({"slack": {"channels": ["a"]}})
    assert config.helpdesk.kind == "none"
    assert build_helpdesk(config) is None


def test_a_missing_secret_names_the_key_that_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCLICK_CLIENT_ID", raising=False)
    config = config_module.parse({"slack": {"channels": ["a"]}, "helpdesk": {"kind": "gclick"}})
    with pytest.raises(ConfigError) as caught:
        build_helpdesk(config)
    assert caught.value.problems == ["helpdesk.client_id_env: environment variable GCLICK_CLIENT_ID is not set"]
