"""Matching client names in chat text: accent-folded, legal suffixes ignored, fuzzy within reason.

A client is found by its full name (score 1.0), by a close spelling of it (rapidfuzz, score
0.85–0.99), by two or more words of its name in a row that no other client shares ("a Vila
Verde" for "Condomínio Residencial Vila Verde", score 0.9), or by the first distinctive word of
its name when no other client starts with it — "a padaria" for "Padaria Pão Quente", "the Acme
SSO" for "Acme Corp", "the O'Donnells" for "O'Donnell & Sons" — (score 0.8), or by its initials
written in capitals ("GLF" for "Great Lakes Fulfillment Partners", score 0.75) when they are no
common abbreviation, or by a person called "Seu", "Dona", "Dr" whose name only that client's name
holds ("o Seu Zé" for "Auto Mecânica Zé Carlos", score 0.75). Aliases (from the config, or the
helpdesk's own nicknames) map other names people use to a client.
Close spellings are only tried for clients that share a word with the text, so a directory of
thousands of clients costs a few dictionary lookups.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from rapidfuzz import fuzz

from hygiene.errors import ConfigError
from hygiene.text import fold

_LEGAL_SUFFIXES = re.compile(
    r"\b(ltda|me|epp|eireli|s\.?a\.?|s/a|inc|llc|ltd|corp|co|gmbh|e cia|cia|limitada|group|grupo"
    r"|pty|plc|limited|llp|lp|pllc|pc|mei)\.?$"
)
# Words that do not tell one client from another.
GENERIC = frozenset(
    """de da do das dos e the of and a o em comercio servicos industria grupo holding participacoes
    tecnologia solutions systems group company consultoria assessoria contabilidade empreendimentos
    distribuidora administradora associacao sociedade cooperativa brasil nova novo""".split()  # noqa: SIM905
)
# Business nouns that stand capitalized in titles and menus ("Settings > Practice > Holidays"):
# one of them alone, written as a name, does not name a client.
_TITLE_NOUNS = frozenset(
    """practice clinic hospital partners services service center centre care health studio labs lab
    store shop market vets vet animal pet pets medical dental foods home homes realty properties
    logistics freight fulfillment supply supplies auto motors capital digital media design
    consulting support team settings""".split()  # noqa: SIM905
)
# Kinds of business a Brazilian firm's clients are ("a igreja", "o laticínio", "a Coop"): with an
# article, the kind names the one client of that kind in the directory.
_KINDS = frozenset(
    """igreja paroquia cooperativa coop usina hospital colegio escola faculdade creche transportadora
    distribuidora padaria panificadora farmacia drogaria academia clinica odonto construtora imobiliaria
    condominio associacao laticinio frigorifico pousada hotel restaurante oficina mercado supermercado
    mercadinho cerealista lavanderia marcenaria vidracaria serralheria ong posto autoescola otica grafica
    papelaria pizzaria choperia cervejaria fazenda granja vinicola sindicato galeria madeireira ceramica
    loterica borracharia funilaria""".split()  # noqa: SIM905
)
_KIND_ARTICLE = re.compile(r"\b(?:a|o|as|os|da|do|na|no|pra|pro|pela|pelo)\s+([a-z]+)\b")
_ABBREVIATED_KINDS = {"coop": "cooperativa"}
# Abbreviations of work, taxes and tools that a client's initials may spell: never a client.
_COMMON_ABBREVIATIONS = frozenset(
    """cnd das fgts iss icms ipi pis nf nfe nfse cte cnpj cpf inss irpf irpj csll dctf sped efd rais
    caged dirf mei ltda sso api csv pdf sla crm erp pos faq eta asap fyi ceo cfo coo cto hr qa ui ux
    app ios vpn sms pix ted doc ccir itr car dre dasn gps rpa pj pf cnh crc cfc rfb sefaz""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z0-9]+")
_RAW_WORD = re.compile(r"[^\W_]+")


def canonical(name: str) -> str:
    folded = " ".join(fold(name).replace("(", " ").replace(")", " ").split())  # "Grey Street (Pty) Ltd"
    previous = None
    while previous != folded:
        previous = folded
        folded = _LEGAL_SUFFIXES.sub("", folded).strip(" .,-&")
    return folded


@dataclass(frozen=True)
class ClientMatch:
    client: str
    matched: str
    score: float
    """1.0 for the full name, less for a close spelling or one distinctive word."""
    how: str = "name"
    """How it was found: name (or alias), spelling, words of the name, first word, name word."""


class ClientMatcher:
    def __init__(self, clients: Iterable[str], aliases: Mapping[str, str] | None = None, threshold: float = 90) -> None:
        self.threshold = threshold
        self._names: dict[str, str] = {}
        for client in clients:
            key = canonical(client)
            if key:
                self._names.setdefault(key, client)
        for alias, client in (aliases or {}).items():
            key = canonical(alias)
            if key:
                self._names[key] = client
        owners: dict[str, set[str]] = {}
        for key, client in self._names.items():
            head = next((w for w in _WORD.findall(key) if len(w) >= 4 and w not in GENERIC), None)
            if head:
                owners.setdefault(head, set()).add(client)
        self._distinctive = {word: next(iter(c)) for word, c in owners.items() if len(c) == 1}
        holders: dict[str, set[str]] = {}
        kinds: dict[str, set[str]] = {}
        for key, client in self._names.items():
            for word in _WORD.findall(key):
                if len(word) >= 4 and word not in GENERIC:
                    holders.setdefault(word, set()).add(client)
                if kind := _kind_of(word):
                    kinds.setdefault(kind, set()).add(client)
        self._unique_words = {word: next(iter(c)) for word, c in holders.items() if len(c) == 1}
        self._kinds = {kind: next(iter(c)) for kind, c in kinds.items() if len(c) == 1}
        self._by_words: dict[tuple[str, ...], str] = {}
        self._by_word: dict[str, set[str]] = {}
        runs: dict[tuple[str, ...], set[str]] = {}
        for key, client in self._names.items():
            words = tuple(_WORD.findall(key))
            self._by_words.setdefault(words, client)
            for word in words:
                self._by_word.setdefault(word, set()).add(key)
            for run in _partial_runs(words):
                runs.setdefault(run, set()).add(client)
        self._runs = {run: next(iter(c)) for run, c in runs.items() if len(c) == 1 and run not in self._by_words}
        self._longest = max((len(words) for words in self._by_words), default=0)
        self._initials = _unique_initials(self._names)
        self._remembered = lru_cache(maxsize=4096)(self._find)

    def find(self, text: str) -> ClientMatch | None:
        """The client the text names, if any (remembered per text: rules ask about a message several times)."""
        return self._remembered(text)

    def _find(self, text: str) -> ClientMatch | None:
        words = _WORD.findall(fold(text))
        return (
            self._whole(words)
            or self._close(words)
            or self._partial(words, text)
            or self._proper(text)
            or self._abbreviated(text)
            or self._person(text)
            or self._kind(text)
        )

    def _whole(self, words: list[str]) -> ClientMatch | None:
        """The longest full name (or alias) that stands in the text word for word."""
        for size in range(min(self._longest, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                client = self._by_words.get(tuple(words[start : start + size]))
                if client is not None:
                    return ClientMatch(client, " ".join(words[start : start + size]), 1.0, "name")
        return None

    def _close(self, words: list[str]) -> ClientMatch | None:
        """A close spelling of a multi-word name that shares a word with the text."""
        folded = " ".join(words)
        candidates = {key for word in words if len(word) >= 3 for key in self._by_word.get(word, ())}
        best: ClientMatch | None = None
        for key in sorted(candidates):
            if len(key) > 6 and " " in key:
                ratio = fuzz.partial_ratio(key, folded)
                if ratio >= self.threshold and (best is None or ratio / 100 > best.score):
                    best = ClientMatch(self._names[key], key, min(0.99, 0.85 + (ratio - 90) / 100), "spelling")
        return best

    def _partial(self, words: list[str], text: str) -> ClientMatch | None:
        """Two or more distinctive words of one client's name in a row, else its first distinctive word."""
        for size in (3, 2):
            for start in range(len(words) - size + 1):
                run = tuple(words[start : start + size])
                if run in self._runs:
                    return ClientMatch(self._runs[run], " ".join(run), 0.9, "words of the name")
        for word in words:
            # "the O'Donnells" for "O'Donnell & Sons"
            head = word if word in self._distinctive or len(word) < 6 else word.removesuffix("s")
            if head in self._distinctive:
                return ClientMatch(self._distinctive[head], word, 0.8, "first word of the name")
        return None

    def _proper(self, text: str) -> ClientMatch | None:
        """Any word of a name that no other client has, written as a name ("a CND da Sorriso"), unless
        another capitalized word the name lacks follows it ("the Southern Cross" is no "Paws Southern")."""
        for raw in _NAME_WORD.findall(text):
            word = fold(raw)
            client = self._unique_words.get(word) if raw[0].isupper() and word not in _TITLE_NOUNS else None
            if client is not None and not _another_name(text, word, client):
                return ClientMatch(client, word, 0.75, "a word of the name, written as a name")
        return None

    def _person(self, text: str) -> ClientMatch | None:
        """Someone called by the honorific people give clients, whose name is in one client's name
        and no other's ("o Seu Zé" for "Auto Mecânica Zé Carlos", "a Dona Graça" for "Maria das
        Graças Lima MEI"), or by the short name Brazilians give a José or a Severino, with the
        honorific or with what they do ("Dona Zefa", "o Zé barbeiro", "Biu da sanfona", "Marquinhos MEI")."""
        for match in _HONORIFIC.finditer(text):
            name = fold(match.group(1))
            found = self._one_holding(name, (name, name + "s"), "a person of the client, by name")
            found = found or self._one_holding(name, NICKNAMES.get(name, ()), "a person of the client, by nickname")
            if found:
                return found
        for match in _NICKNAMED.finditer(text):
            name = fold(match.group(1))
            if name in NICKNAMES and _describes(fold(match.group(2))):
                found = self._one_holding(name, NICKNAMES[name], "a person of the client, by nickname")
                if found:
                    return found
        return None

    def _one_holding(self, said: str, names: Iterable[str], how: str) -> ClientMatch | None:
        """The one client whose name holds one of ``names`` (None when none does, or several)."""
        holders = {key for name in names for key in self._by_word.get(name, set())}
        clients = {self._names[key] for key in holders}
        return ClientMatch(clients.pop(), said, 0.75, how) if len(clients) == 1 else None

    def _kind(self, text: str) -> ClientMatch | None:
        """The kind of business, with an article, when one client alone is of that kind ("a igreja
        mandou o livro caixa" for "Igreja Evangélica Nova Aliança", "a Coop" for "Cooperativa
        Leiteira Vale do Piratini"), unless a name the client lacks follows ("a Lavanderia Bolha Azul")."""
        for match in _KIND_ARTICLE.finditer(fold(text)):
            kind = _kind_of(match.group(1))
            client = self._kinds.get(kind) if kind else None
            if client is not None and not _another_name(text, match.group(1), client):
                return ClientMatch(client, match.group(1), 0.7, "the one client of its kind")
        return None

    def _abbreviated(self, text: str) -> ClientMatch | None:
        """A client's initials written in capitals ("GLF says the scanner freezes")."""
        for raw in _RAW_WORD.findall(text):
            if 3 <= len(raw) <= 5 and raw.isupper() and raw.isalpha():
                client = self._initials.get(raw.lower())
                if client is not None:
                    return ClientMatch(client, raw.lower(), 0.75, "initials of the name")
        return None


_NAME_WORD = re.compile(r"(?<![\w@])[^\W\d_][\w-]*")
_HONORIFIC = re.compile(r"(?i)\b(?:seu|dona|sr|sra|dr|dra)\.?\s+([^\W\d_]{2,})")
# A capitalized short name and the word after it: "Zé barbeiro", "Biu da sanfona", "Naldo chapa".
_NICKNAMED = re.compile(r"\b([A-ZÀ-Ý][^\W\d_]{1,11})\s+([^\W\d_]+)")

NICKNAMES: dict[str, tuple[str, ...]] = {
    "ze": ("jose",), "zeca": ("jose",), "juca": ("jose",), "zezinho": ("jose",), "zefa": ("josefa",),
    "chico": ("francisco",), "chiquinho": ("francisco",), "chica": ("francisca",), "chaguinha": ("chagas",),
    "tiao": ("sebastiao",), "biu": ("severino",), "cida": ("aparecida",), "marquinhos": ("marcos",),
    "toninho": ("antonio",), "tonho": ("antonio",), "tonha": ("antonia",), "nando": ("fernando",),
    "nanda": ("fernanda",), "guto": ("augusto",), "beto": ("roberto", "alberto", "humberto"),
    "dudu": ("eduardo",), "duda": ("eduarda",), "carlinhos": ("carlos",), "quinzinho": ("joaquim",),
    "naldo": ("edinaldo", "reinaldo", "arnaldo", "ronaldo"), "rosi": ("rosimeire", "rosilene", "rosiane"),
    "rose": ("rosemeire", "rosemary", "rosilene"), "graca": ("gracas",), "bia": ("beatriz",),
    "lena": ("helena", "milena"), "tina": ("cristina",), "paulinho": ("paulo",), "pedrinho": ("pedro",),
    "joaozinho": ("joao",), "mundinha": ("raimunda",), "mundico": ("raimundo",), "didi": ("valdir",),
}  # fmt: skip
"""Brazilian short names for the full names a client's name holds (folded)."""

_DESCRIBING = frozenset("mei da do das dos de".split())  # noqa: SIM905
_TRADE_ENDINGS = ("eiro", "eira", "ista", "dor", "dora", "chapa", "motoboy")


def _describes(word: str) -> bool:
    """The word after a short name says who the person is: "MEI", "da sanfona", a trade ("barbeiro")."""
    return word in _DESCRIBING or word.endswith(_TRADE_ENDINGS)


def _another_name(text: str, word: str, client: str) -> bool:
    """Every place ``word`` stands, a capitalized word the client's name lacks follows it right
    away ("the Southern Cross" is not "Southern Paws Mobile Vet"; "the Acme SSO" is still Acme)."""
    name = set(_WORD.findall(canonical(client)))
    raws = list(_RAW_WORD.finditer(text))
    seen = False
    for here, after in pairwise(raws):
        if fold(here.group(0)) != word:
            continue
        seen = True
        follower = after.group(0)
        titled = follower[0].isupper() and not follower.isupper() and len(follower) >= 3
        joined = not text[here.end() : after.start()].strip()
        # "Apex Ortho" for "Apex Orthodontics", "Bayside Peds" for "Bayside Pediatrics": the name, shortened
        short = fold(follower)[:3]
        if not (titled and joined and not any(w.startswith(short) for w in name)):
            return False
    return seen


def _kind_of(word: str) -> str | None:
    """The kind of business a word names ("laticinios" and "laticinio", "coop" and "cooperativa")."""
    word = _ABBREVIATED_KINDS.get(word, word)
    if word in _KINDS:
        return word
    single = word.removesuffix("s")
    return single if single in _KINDS else None


def _unique_initials(names: Mapping[str, str]) -> dict[str, str]:
    """Initials of each name's words (and their first three or more), held by one client only."""
    holders: dict[str, set[str]] = {}
    for key, client in names.items():
        initials = "".join(w[0] for w in _WORD.findall(key) if w not in _CONNECTORS)
        for size in range(3, len(initials) + 1):
            holders.setdefault(initials[:size], set()).add(client)
    return {
        initials: next(iter(clients))
        for initials, clients in holders.items()
        if len(clients) == 1 and initials not in _COMMON_ABBREVIATIONS
    }


_CONNECTORS = frozenset("de da do das dos e the of and".split())  # noqa: SIM905


def _partial_runs(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Runs of two or three words of a name that can stand for it: not all generic, not the whole name."""
    runs = []
    for size in (2, 3):
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            if sum(w not in GENERIC and len(w) >= 3 for w in run) >= 2 and run[-1] not in GENERIC:
                runs.append(run)
    return runs


NAME_COLUMNS = ("name", "nome", "client", "cliente", "razao_social", "organization")


def read_client_names(path: Path) -> list[str]:
    """A client directory file: one name per line, or a CSV whose header has a name column.

    UTF-8 (with or without a byte-order mark) or Windows-1252; blank lines and ``#`` comments
    are skipped.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--clients: {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    header = [column.strip().lower() for column in next(csv.reader([lines[0]]))]
    column = next((header.index(name) for name in NAME_COLUMNS if name in header), None)
    if path.suffix.lower() == ".csv" or column is not None:
        if column is None:
            raise ConfigError(f"--clients: {path}: no name column (one of {', '.join(NAME_COLUMNS)}) in the header")
        rows = csv.reader(lines[1:])
        return [row[column].strip() for row in rows if len(row) > column and row[column].strip()]
    return [line.strip() for line in lines]
