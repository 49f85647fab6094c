"""A text file is read in pieces (so the reader thread never holds the GIL for a whole-file
copy); the rows must be exactly those of one pass over the whole text."""

from __future__ import annotations

import csv
import io

import pytest

from smsdesk.services.imports import readers

TEXTS = [
    "name,phone\nAnn,07911 123456\nBob,07911 654321\n",
    "name,phone\r\nAnn,07911 123456\r\nBob,07911 654321\r\n",  # Windows line ends, cut between?
    'name,note\nAnn,"two\nlines"\nBob,"three\r\nlines\nhere"\nCat,plain\n',  # quoted line ends
    "name,phone\rAnn,1\rBob,2\r",  # old Mac line ends: no \n at all
    "a,b\n" + "x" * 50 + ",y\n" + "no final newline",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("piece", [1, 2, 3, 7, 64, 1 << 18])
def test_pieces_give_the_rows_of_the_whole_text(text: str, piece: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_PIECE", piece)
    whole = list(csv.reader(io.StringIO(text, newline="")))
    assert list(csv.reader(readers._lines(text))) == whole


def test_a_big_file_is_read_in_many_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "".join(f"P{i},07400{i:06d}\n" for i in range(20_000))
    pieces: list[int] = []
    real = io.StringIO

    def counting(value: str, newline: str | None = None) -> io.StringIO:
        pieces.append(len(value))
        return real(value, newline=newline)

    monkeypatch.setattr(readers.io, "StringIO", counting)
    rows = list(csv.reader(readers._lines(text)))
    assert len(rows) == 20_000 and rows[-1] == ["P19999", "07400019999"]
    assert len(pieces) > 1 and max(pieces) <= readers._PIECE
