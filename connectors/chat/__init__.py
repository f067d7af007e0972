"""Chat connectors: one package per platform, each implementing :mod:`hygiene.ports.chat`."""
