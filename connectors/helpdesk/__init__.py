"""Helpdesk connectors: one module per helpdesk kind (files, gclick, zendesk).

Each module owns its ``Settings`` (the keys of ``[helpdesk]`` for that kind) and exposes ``KIND``,
registered under the ``hygiene.helpdesk`` entry-point group, so the core finds and builds it
without naming it.
"""
