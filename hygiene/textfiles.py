"""Reading the team's text files: UTF-8 with or without a byte-order mark, or Windows-1252.

Spreadsheets and editors on Windows save CSV and TOML as Windows-1252 or with a BOM; both are
read as the person meant them. Whole files (tickets, config) decode as one; message lines
decode line by line, so that one bad line is skipped and counted instead of stopping an audit.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hygiene.errors import HygieneError

FALLBACK = "cp1252"
FIX = "save it as UTF-8 (or Windows-1252)"


class TextFileError(HygieneError):
    """A file that is neither UTF-8 nor Windows-1252: names the file, the line and the fix (exit 2)."""

    exit_code = 2


def decode(raw: bytes, source: str | Path) -> str:
    """The text of a whole file: UTF-8 (BOM dropped), else Windows-1252, else an error naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return raw.decode(FALLBACK)
    except UnicodeDecodeError:
        line = raw.count(b"\n", 0, utf8_error.start) + 1
        raise TextFileError(f"{source}: line {line}: bytes that are not UTF-8 nor Windows-1252; {FIX}") from None


def read_text(path: Path) -> str:
    """``decode`` of a file's bytes; missing files and folders are the caller's to report."""
    return decode(path.read_bytes(), path)


@dataclass
class LineDecoder:
    """Decodes the lines of one file: UTF-8 until a line says the file is Windows-1252.

    A line that is not UTF-8 in a file already seen to hold UTF-8 text (or that no encoding
    reads) is reported in ``bad`` and yields nothing.
    """

    source: str
    bad: list[str] = field(default_factory=list)
    encoding: str | None = None

    def lines(self, raw_lines: Iterable[bytes]) -> Iterator[tuple[int, str]]:
        for number, raw in enumerate(raw_lines, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            text = self._decode(raw)
            if text is None:
                self.bad.append(f"{self.source}:{number}: bytes that are not UTF-8 (skipped); {FIX}")
                continue
            yield number, text

    def _decode(self, raw: bytes) -> str | None:
        if self.encoding != FALLBACK:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                if not raw.isascii():
                    self.encoding = "utf-8"
                return text
        if self.encoding == "utf-8":
            return None
        try:
            text = raw.decode(FALLBACK)
        except UnicodeDecodeError:
            return None
        self.encoding = FALLBACK
        return text
