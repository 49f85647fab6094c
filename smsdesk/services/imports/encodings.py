"""Which character encoding a text export is in, and how sure we can be.

Evidence first: a BOM (UTF-8, UTF-16 LE/BE as Excel's "Unicode text" writes them); UTF-16
without a BOM (NULs in every other position); strict UTF-8. These are certain.

Anything else is a legacy code page, and the bytes alone cannot always say which. Windows-1252
(Excel's "CSV" on a Western PC) is read first, as it is right for most such files; a detector
used blindly is worse there (short Western files come out as Central European, "Señora" as
"Seńora", and a short KOI8-R file as Thai). Other code pages are tried only when

- the Windows-1252 reading shows signs of another script or of mis-decoding (see
  :func:`oddities`: runs of accented letters no Latin word has, symbols glued to letters,
  Icelandic letters outside Iceland, control characters), or
- the default country usually writes another code page (Greece, Russia, Turkey, Japan, ...):
  the country is the hint.

Then each candidate's reading of the lines that hold non-ASCII bytes is scored by the same
oddity count; ``charset-normalizer``'s chaos measure breaks ties; a candidate of the hinted
country wins a tie against one that is not. The detector ranks, it never decides alone, and
scripts nobody in the country writes (Thai for a UK shop) are not candidates at all.

A reading is *doubtful* (:attr:`Decoded.doubt` says why, in words, for the file page) when
the best reading still looks garbled, or when another candidate reads the same bytes as other
letters just as plausibly. The person then picks the encoding from :data:`CHOICES`.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from smsdesk.domain.errors import InvalidInput

WESTERN = "cp1252"

# (codec, what a person sees in the picker), in the order the picker lists them.
CHOICES: tuple[tuple[str, str], ...] = (
    ("utf-8", "Unicode (UTF-8)"),
    ("utf-8-sig", "Unicode (UTF-8 with BOM)"),
    ("utf-16-le", "Unicode (UTF-16 LE)"),
    ("utf-16-be", "Unicode (UTF-16 BE)"),
    ("cp1252", "Western European (Windows-1252)"),
    ("latin-1", "Western European (ISO-8859-1)"),
    ("mac_roman", "Western European (Mac)"),
    ("cp1250", "Central European (Windows-1250)"),
    ("iso8859_2", "Central European (ISO-8859-2)"),
    ("cp1251", "Cyrillic (Windows-1251)"),
    ("koi8_r", "Cyrillic (KOI8-R)"),
    ("koi8_u", "Ukrainian (KOI8-U)"),
    ("cp866", "Cyrillic (DOS 866)"),
    ("cp1253", "Greek (Windows-1253)"),
    ("iso8859_7", "Greek (ISO-8859-7)"),
    ("cp1254", "Turkish (Windows-1254)"),
    ("iso8859_9", "Turkish (ISO-8859-9)"),
    ("cp1257", "Baltic (Windows-1257)"),
    ("cp1255", "Hebrew (Windows-1255)"),
    ("cp1256", "Arabic (Windows-1256)"),
    ("cp1258", "Vietnamese (Windows-1258)"),
    ("cp874", "Thai (Windows-874)"),
    ("cp932", "Japanese (Shift_JIS)"),
    ("euc_jp", "Japanese (EUC-JP)"),
    ("gb18030", "Chinese Simplified (GB18030)"),
    ("big5", "Chinese Traditional (Big5)"),
    ("cp949", "Korean (EUC-KR)"),
)
_LABELS = {codec: text for codec, text in CHOICES}

_FAMILIES: dict[str, tuple[str, ...]] = {
    "central": ("cp1250",),  # ISO-8859-2 / -9 are in the picker; Windows files dominate
    "cyrillic": ("cp1251", "koi8_r", "koi8_u", "cp866"),
    "greek": ("cp1253", "iso8859_7"),
    "turkish": ("cp1254",),
    "baltic": ("cp1257",),
    "hebrew": ("cp1255",),
    "arabic": ("cp1256",),
    "vietnamese": ("cp1258",),
    "thai": ("cp874",),
    "japanese": ("cp932", "euc_jp"),
    "chinese_s": ("gb18030",),
    "chinese_t": ("big5",),
    "korean": ("cp949",),
}
_COUNTRY_FAMILY: dict[str, str] = {
    **dict.fromkeys(("PL", "CZ", "SK", "HU", "HR", "SI", "RO", "BA", "AL", "RS"), "central"),
    **dict.fromkeys(("RU", "UA", "BY", "BG", "MK", "KZ", "KG", "MN", "TJ", "UZ"), "cyrillic"),
    **dict.fromkeys(("GR", "CY"), "greek"),
    **dict.fromkeys(("TR", "AZ"), "turkish"),
    **dict.fromkeys(("LT", "LV", "EE"), "baltic"),
    "IL": "hebrew",
    **dict.fromkeys(
        ("SA", "AE", "EG", "JO", "KW", "QA", "BH", "OM", "LB", "SY", "IQ", "MA", "DZ", "TN", "LY", "YE", "IR", "PK"),
        "arabic",
    ),
    "VN": "vietnamese",
    "TH": "thai",
    "JP": "japanese",
    "CN": "chinese_s",
    "SG": "chinese_s",
    **dict.fromkeys(("TW", "HK", "MO"), "chinese_t"),
    "KR": "korean",
}
# Tried without a hint when the Western reading looks wrong: the scripts a shop in a Western
# country most often receives. Thai, Korean, Hebrew, Arabic... only with their country's hint
# (otherwise they "explain" short Cyrillic or Japanese files better than the truth).
_GENERAL = ("cp1250", "cp1251", "koi8_r", "cp1253", "iso8859_7", "cp1254", "cp932", "euc_jp", "gb18030", "big5")

_SAMPLE_BYTES = 16384
_NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")
_WORD = re.compile(r"[^\W\d_]+")  # letters, and digit-like signs such as "¹" that \d leaves out
_MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]|\u00e2\u20ac[\u0080-\u00bf\u2018-\u201e\u2122\u0153]")
# Punctuation that touches letters in real names and notes: apostrophes, quotes, dashes, a
# middle dot (Catalan "l·l"), an acute accent typed as an apostrophe ("O´Brien").
_GLUE_OK = set("’‘“”„‚«»‹›–—…·´\u00a0\u202f€£$¢¥")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A file's text and how it was read.

    Attributes:
        text: the decoded text.
        encoding: the codec used (a key of :data:`CHOICES`).
        doubt: empty when the reading is certain or clearly best; otherwise a sentence for the
            person saying what may be wrong and what to do.
    """

    text: str
    encoding: str
    doubt: str = ""  # what may be wrong; the page or the command adds what to do about it


def label(codec: str) -> str:
    """What a person calls ``codec`` ("Greek (Windows-1253)")."""
    if codec in _LABELS:
        return _LABELS[codec]
    try:
        name = codecs.lookup(codec).name
    except LookupError:
        return codec
    for known, text in CHOICES:
        if codecs.lookup(known).name == name:
            return text
    return codec


def hinted(country: str | None) -> tuple[str, ...]:
    """The code pages people in ``country`` usually write, best first (empty for Western ones)."""
    family = _COUNTRY_FAMILY.get((country or "").upper())
    return _FAMILIES[family] if family else ()


def decode(data: bytes, country: str | None = None, encoding: str | None = None) -> Decoded:
    """The text of ``data`` and the encoding it was read with (``encoding`` forces one)."""
    if encoding:
        return _forced(data, encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        return _utf8_checked(data[3:].decode("utf-8", errors="replace"), "utf-8-sig")
    if data.startswith(b"\xff\xfe"):
        return Decoded(data[2:].decode("utf-16-le", errors="replace"), "utf-16-le")
    if data.startswith(b"\xfe\xff"):
        return Decoded(data[2:].decode("utf-16-be", errors="replace"), "utf-16-be")
    enc = utf16_without_bom(data[:4000])
    if enc is not None:
        return Decoded(data.decode(enc, errors="replace"), enc)
    try:
        return _utf8_checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    return _legacy(data, (country or "").upper())


def utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le`` / ``-be`` for UTF-16 text without a BOM, else None.

    Digits, separators and line ends put NULs on one side of every pair (the high byte of
    U+00xx), and almost never on the other (Greek or Cyrillic letters put 0x03 / 0x04 there).
    Binary data has NULs on both sides.
    """
    if len(head) < 4:
        return None
    even, odd = head[0::2].count(0) / len(head[0::2]), head[1::2].count(0) / len(head[1::2])
    if max(even, odd) >= 0.3 and min(even, odd) <= 0.02:
        return "utf-16-be" if even > odd else "utf-16-le"
    return None


def _forced(data: bytes, encoding: str) -> Decoded:
    codec = encoding
    try:
        codecs.lookup(codec)
    except LookupError:
        known = ", ".join(c for c, _ in CHOICES[:12])
        raise InvalidInput(f"Unknown encoding '{encoding}'. Known ones include {known}.") from None
    if codec.startswith("utf-16") and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data = data[2:]
    elif codec in ("utf-8", "utf-8-sig") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode(codec, errors="replace")
    bad = text.count("\ufffd")
    if not bad:
        return Decoded(text, encoding)
    return Decoded(
        text, encoding, f"{bad:,} character(s) of this file are not valid in {label(encoding)} and show as \ufffd."
    )


def _utf8_checked(text: str, codec: str) -> Decoded:
    """UTF-8 is certain, but the text may have been converted twice on its way ("JÃ¼rgen")."""
    m = _MOJIBAKE.search(text[:200_000])
    if m is None:
        return Decoded(text, codec)
    word = _word_at(text, m.start())
    return Decoded(
        text,
        codec,
        f"Some letters look garbled (\u201c{word}\u201d): the file seems to have been "
        "converted twice before it was saved. Export it again from the program it came "
        "from, as \u201cCSV UTF-8\u201d if offered.",
    )


def _word_at(text: str, pos: int) -> str:
    start = max(text.rfind(c, 0, pos) for c in ' ,;\t\n"') + 1
    ends = [e for e in (text.find(c, pos) for c in ' ,;\t\n"') if e >= 0]
    return text[start : min(ends) if ends else len(text)][:40]


def _western(data: bytes) -> tuple[str, str]:
    try:
        return data.decode(WESTERN), WESTERN
    except UnicodeDecodeError:
        # Bytes Windows-1252 leaves undefined: ISO-8859-1 reads every byte (as a control character).
        return data.decode("latin-1"), "latin-1"


def sample_lines(data: bytes) -> bytes:
    """The lines that hold non-ASCII bytes (all the evidence there is), up to 16 KB."""
    out: list[bytes] = []
    size = 0
    for m in _NON_ASCII_LINE.finditer(data):
        out.append(m.group(0))
        size += len(m.group(0)) + 1
        if size >= _SAMPLE_BYTES:
            break
    return b"\n".join(out)


def _legacy(data: bytes, country: str) -> Decoded:
    text, western = _western(data)
    sample = sample_lines(data)
    reading = sample.decode(western)
    hint = hinted(country)
    if not hint:
        odd, words = _odd_words(reading, country)
        if odd == 0:
            return Decoded(text, western)  # the common case: a Western export, read as before
        if odd * 3 < words:
            # Most accented words read right (an Icelandic name among Spanish ones): another
            # code page would fix one word and break the others. Keep it, and say which looks odd.
            return Decoded(text, western, _doubt(_Candidate(western, reading, odd, 1, 0.0), []))
    ranked = _rank(sample, country, hint, western)
    best = ranked[0]
    chosen = best.codec
    if chosen == western:
        full = text
    else:
        try:
            full = data.decode(chosen)
        except UnicodeDecodeError:
            full, chosen = text, western  # the sample decoded, the rest does not: stay Western
            best = next(c for c in ranked if c.codec == western)
    return Decoded(full, chosen, _doubt(best, ranked))


@dataclass(frozen=True, slots=True)
class _Candidate:
    codec: str
    text: str
    odd: int
    pref: int  # 0 hinted, 1 Western, 2 other
    chaos: float

    @property
    def key(self) -> tuple[int, int, float]:
        return (self.odd, self.pref, round(self.chaos, 2))


def _rank(sample: bytes, country: str, hint: tuple[str, ...], western: str) -> list[_Candidate]:
    order = list(dict.fromkeys([*hint, western, *_GENERAL]))
    readings: dict[str, str] = {}
    for codec in order:
        try:
            reading = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        if reading not in readings.values():  # the same letters: keep the likelier name for them
            readings[codec] = reading
    chaos = _chaos(sample, list(readings))
    out = []
    for codec, reading in readings.items():
        pref = 0 if codec in hint else 1 if codec == western else 2
        out.append(_Candidate(codec, reading, oddities(reading, country), pref, chaos.get(codec, 1.0)))
    out.sort(key=lambda c: c.key)  # stable: equal keys keep the hint's / the list's order
    return out


def _chaos(sample: bytes, codecs_: list[str]) -> dict[str, float]:
    """charset-normalizer's mess measure per candidate (1.0 where it gave up on one)."""
    import charset_normalizer

    if not codecs_:
        return {}
    matches = charset_normalizer.from_bytes(
        sample, cp_isolation=codecs_, threshold=0.5, preemptive_behaviour=False, enable_fallback=False
    )
    by_name = {_norm(c): c for c in codecs_}
    out: dict[str, float] = {}
    for m in matches:
        for name in [m.encoding, *m.could_be_from_charset]:
            codec = by_name.get(_norm(name))
            if codec is not None and codec not in out:
                out[codec] = float(m.chaos)
    return out


def _norm(codec: str) -> str:
    try:
        return codecs.lookup(codec).name
    except LookupError:
        return codec


def _doubt(best: _Candidate, ranked: list[_Candidate]) -> str:
    if best.odd > 0:
        word = _odd_example(best.text) or ""
        example = f" (\u201c{word}\u201d)" if word else ""
        return f"Some letters may be wrong: read as {label(best.codec)}, a few words still look garbled{example}."
    for other in ranked[1:]:
        if other.odd != best.odd:
            break
        # Equally plausible letters: a doubt between candidates of the same standing, and
        # between the country's code page and the Western one (a Western list in Poland).
        same = other.key == best.key or (best.pref == 0 and other.pref == 1)
        if same and other.text != best.text:
            mine, theirs = _first_difference(best.text, other.text)
            return (
                f"The letters in this file can be read two ways: as {label(best.codec)}, \u201c{mine}\u201d "
                f"(shown), or as {label(other.codec)}, \u201c{theirs}\u201d."
            )
    return ""


def _first_difference(a: str, b: str) -> tuple[str, str]:
    for wa, wb in zip(re.split(r"[\s,;\t|]+", a), re.split(r"[\s,;\t|]+", b), strict=False):
        if wa != wb:
            return wa[:40], wb[:40]
    return a[:40], b[:40]


def _odd_example(text: str) -> str | None:
    for m in re.finditer(r"[^\s,;\t|\"]+", text):
        if oddities(m.group(0), "") > 0:
            return m.group(0)[:40]
    return None


# ---- how odd a reading looks -----------------------------------------------------------
_RARE_LATIN = set("ðþÐÞÝý")
_RARE_OK = {"IS": set("ðþÐÞÝý"), "FO": set("ðþÐÞÝý"), "CZ": set("Ýý"), "SK": set("Ýý")}
_CENTRAL = set("ěščřžťďňůĚŠČŘŽŤĎŇŮ")
_BICAMERAL = ("greek", "cyrillic")


@lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    o = ord(ch)
    if o < 0x250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    if 0x370 <= o <= 0x3FF or 0x1F00 <= o <= 0x1FFF:
        return "greek"
    if 0x400 <= o <= 0x52F:
        return "cyrillic"
    if 0x3040 <= o <= 0x30FF or 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "cjk"  # kanji / hanzi with kana: one writing system
    if 0xFF61 <= o <= 0xFF9F:
        return "halfwidth"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x590 <= o <= 0x5FF:
        return "hebrew"
    if 0x600 <= o <= 0x6FF:
        return "arabic"
    if 0xE00 <= o <= 0xE7F:
        return "thai"
    if 0xFF01 <= o <= 0xFF5E:
        return "fullwidth"
    return unicodedata.name(ch, "other").split(" ")[0].lower()


def oddities(text: str, country: str) -> int:
    """How much ``text`` looks like letters decoded with the wrong code page (0: not at all).

    Counts: control and replacement characters; words that mix scripts (Latin with Cyrillic,
    say); Latin words with three accented letters in a row or mostly accented letters
    ("Áëåîáíäñïò"); letters no language of ``country`` uses where a code page puts another
    language's letter (Icelandic "ð", "þ", "ý" for Turkish "ğ", "ş", "ı"); Greek or Cyrillic
    words whose case flips mid-word ("бМЕЙУ", what KOI8-R read as Windows-1251 gives); a final
    sigma inside a word; symbols glued to letters ("£ucja", "W¹sowska", "¤³¤ó").
    """
    score = 0
    rare = _RARE_LATIN - _RARE_OK.get(country, set())
    for ch in set(text):
        o = ord(ch)
        control = (o < 0x20 and ch not in "\t\r\n") or 0x7F <= o <= 0x9F or ch == "\ufffd"
        if control or (o > 0x7F and unicodedata.category(ch) in ("Co", "Cn")):
            score += 3 * text.count(ch)
    for m in _WORD.finditer(text):
        word = m.group(0)
        if word.isascii():
            continue
        score += _word_oddity(word, rare)
        start, end = m.start(), m.end()
        for pos in (start - 1, end):
            if 0 <= pos < len(text):
                ch = text[pos]
                if ord(ch) > 0x7F and ch not in _GLUE_OK and not ch.isspace():
                    score += 2  # a symbol touching a word
        if start and text[start - 1] == "\u2019" and _script(word[0]) == "greek":
            score += 2  # ISO-8859-7's "’" where Windows-1253 has "Ά" (the same byte)
    return score


def _odd_words(text: str, country: str) -> tuple[int, int]:
    """``(odd, all)``: how many of the words with non-ASCII letters look mis-decoded."""
    odd = total = 0
    for m in re.finditer(r"[^\s,;\t|\"]+", text):
        word = m.group(0)
        if not word.isascii():
            total += 1
            odd += oddities(word, country) > 0
    return odd, total


def _word_oddity(word: str, rare: set[str]) -> int:
    scripts = {_script(c) for c in word if c.isalpha()}
    if len(scripts) > 1:
        return 3
    if any(not c.isalpha() for c in word):
        return 2  # a superscript or similar inside a word ("W¹sowska")
    script = next(iter(scripts), "")
    if script == "latin":
        accented = "".join("x" if c > "\x7f" else "." for c in word)
        # "Áëåîáíäñïò": nearly every letter accented, three in a row. Real words have runs
        # ("ÇİĞDEM", "żółw") but not mostly accented letters with one.
        if len(word) >= 3 and "xxx" in accented and accented.count("x") >= 0.7 * len(word):
            return 2
        if any(c in rare for c in word):
            # "Yýlmaz" is Turkish read as Western; "Šťastný" is Czech, read right.
            return 0 if rare & set(word) <= {"ý", "Ý"} and _CENTRAL & set(word) else 2
        return 0
    if script in _BICAMERAL:
        flips = any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False))
        sigma = "ς" in word[:-1]
        return 2 if flips or sigma else 0
    return 0
