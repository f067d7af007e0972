"""Connectors: one module per outside system (Slack, the files helpdesk, G Click, Zendesk …)."""
