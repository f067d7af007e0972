"""A realistic mix of team chat for the benchmarks: mostly chatter, some client work, both languages.

Real team chat is mostly chatter (greetings to all, lunch, meetings, deploys, thanks, how-to):
about 8 messages in 10 here. The rest comes from the labeled corpus (tests/corpus/labeled.jsonl):
client requests (HY101), status questions (HY102), urgent messages, bare greetings, and the
corpus's own near misses (labeled with no rule). A quarter of the messages are thread replies,
and the stream has edits, deletions, joins and bot posts. Channels are busy to different
degrees (a few busy ones, a long tail of quiet ones), as in a real workspace.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

CORPUS = Path(__file__).parent.parent / "tests" / "corpus"

OPENERS = ["", "", "", "Pessoal, ", "Gente, ", "Team, ", "FYI ", "Só avisando: ", "Heads up: ", "Lembrete: "]
SUBJECTS_PT = [
    "a reunião de {n}h",
    "o almoço de sexta",
    "a planilha de horas",
    "o café da copa",
    "o treinamento do sistema novo",
    "a festa de fim de ano",
    "o estacionamento",
    "a impressora do segundo andar",
    "o wifi da sala {n}",
    "o deploy {n}",
]
PREDICATES_PT = [
    " foi remarcada para amanhã.",
    " está confirmada.",
    " acabou, alguém repõe?",
    " ficou ótima, obrigado!",
    " vai atrasar uns minutos.",
    " está no drive.",
    " voltou a funcionar.",
    ", alguém sabe como configurar?",
]
SUBJECTS_EN = [
    "the standup",
    "the {n} o'clock sync",
    "lunch on Friday",
    "the onboarding doc",
    "the printer",
    "release {n}",
    "the team offsite",
    "the new dashboard",
]
PREDICATES_EN = [
    " moved to tomorrow.",
    " is confirmed.",
    " is in the shared drive.",
    " looks great, thanks!",
    " is running a bit late.",
    " works again.",
    ", does anyone know how to set it up?",
]
REPLIES = ["ok", "valeu!", "feito", "obrigado", "vou ver", "👍", "thanks!", "on it", "done", "boa", "combinado", "+1"]
GREETINGS_TO_ALL = ["Bom dia, pessoal!", "Boa tarde a todos", "Good morning team!", "Bom fim de semana!"]


def corpus_by_kind() -> dict[str, list[str]]:
    """The labeled corpus's texts by what they are."""
    kinds: dict[str, list[str]] = {"request": [], "status": [], "urgent": [], "bare": [], "near": []}
    for line in (CORPUS / "labeled.jsonl").read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        labels = set(message.get("labels") or [])
        for code, name in (("HY103", "urgent"), ("HY104", "urgent"), ("HY101", "request"), ("HY102", "status")):
            if code in labels:
                kind = name
                break
        else:
            kind = "bare" if "HY105" in labels else "near"
        kinds[kind].append(message["text"])
    return kinds


class ChatMix:
    """Draws texts in the realistic proportions."""

    SHARES = (("chatter", 0.78), ("near", 0.08), ("request", 0.06), ("status", 0.04), ("bare", 0.02), ("urgent", 0.02))

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.corpus = corpus_by_kind()
        self.kinds = [kind for kind, _ in self.SHARES]
        self.weights = [share for _, share in self.SHARES]

    def text(self, n: int) -> str:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return self.chatter(n) if kind == "chatter" else self.rng.choice(self.corpus[kind])

    def chatter(self, n: int) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return self.rng.choice(GREETINGS_TO_ALL)
        if roll < 0.55:
            subject, predicate = self.rng.choice(SUBJECTS_PT), self.rng.choice(PREDICATES_PT)
        else:
            subject, predicate = self.rng.choice(SUBJECTS_EN), self.rng.choice(PREDICATES_EN)
        text = self.rng.choice(OPENERS) + subject.format(n=n % 24) + predicate
        return text[0].upper() + text[1:]

    def reply(self, n: int) -> str:
        return self.rng.choice(REPLIES) if self.rng.random() < 0.6 else self.text(n)


def channel_weights(count: int) -> list[float]:
    """Zipf-like: a few busy channels and a long tail of quiet ones."""
    return [1 / (rank + 1) for rank in range(count)]


def message_lines(count: int, seed: int = 11, channels: int = 40, start: float = 1_700_000_000.0) -> Iterator[str]:
    """``count`` lines of the chat message input (CONTRACTS.md), in time order."""
    rng = random.Random(seed)
    mix = ChatMix(rng)
    names = [f"C{i:03d}BENCH" for i in range(channels)]
    weights = channel_weights(channels)
    recent: dict[str, list[str]] = {name: [] for name in names}
    ts = start
    for i in range(count):
        ts += rng.uniform(1, 60)
        stamp = f"{ts:.6f}"
        channel = rng.choices(names, weights)[0]
        roots = recent[channel]
        roll = rng.random()
        if roll < 0.01 and roots:
            yield json.dumps(
                {"channel": channel, "subtype": "message_deleted", "ts": stamp, "deleted_ts": rng.choice(roots)}
            )
            continue
        if roll < 0.04 and roots:
            edit = {"type": "message", "user": f"U{i % 60}", "ts": rng.choice(roots), "text": mix.text(i)}
            yield json.dumps({"channel": channel, "subtype": "message_changed", "ts": stamp, "message": edit})
            continue
        message: dict[str, object] = {"channel": channel, "type": "message", "user": f"U{i % 60}", "ts": stamp}
        if roll < 0.045:
            message.update(subtype="channel_join", text=f"<@U{i % 60}> has joined the channel")
        elif roll < 0.055:
            message.update(subtype="bot_message", bot_id="B0DEPLOY", text=f"Deploy {i} finished", user=None)
        elif roll < 0.30 and roots:
            message.update(thread_ts=rng.choice(roots[-5:]), text=mix.reply(i))
        else:
            message["text"] = mix.text(i)
            recent[channel] = [*roots[-19:], stamp]
        yield json.dumps(message, ensure_ascii=False)
