"""Screening-list files to :class:`graphs.records.ListRecord`: pure parsing, no database.

Four formats (``FORMATS``):

``eu-csv``
    The EU Regulation 833/2014 Annex IV extraction: ``recordId, startDate, name, alias, registrationNumber,
    address, phone, email, website``; multi-valued cells are ``;``-separated.
``csl-csv``
    The US Consolidated Screening List CSV (``_id, source, entity_number, type, programs, name, ...,
    addresses, alt_names, ids, ...``).
``ftm-json``
    OpenSanctions FollowTheMoney entities, one JSON object a line (the flat ``entities.ftm.json`` export);
    ``Ownership`` entities become parent links, ``Address`` and ``Sanction`` entities enrich the parties.
``csv``
    Any CSV whose columns are recognised by common header names (any case) or mapped with
    ``mapping={"name": "Company", ...}`` (the CLI's ``--map field=Header``).

Countries: ``graphs`` may not import ``features`` (the layers contract), so the caller passes the
reference country table (``{iso2: name}``, e.g. from ``features.reference.countries()``) as ``countries``;
without it only two-letter codes the file states are recognised and no country is read from address text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import phonenumbers
from anyascii import anyascii

from graphs.records import ListRecord

__all__ = [
    "FORMATS",
    "MAP_FIELDS",
    "CountryResolver",
    "ListFileError",
    "expand_name",
    "name_key",
    "parse_list_file",
    "slug",
    "split_phones",
]

log = logging.getLogger(__name__)

FORMATS = ("eu-csv", "csl-csv", "ftm-json", "csv")


class ListFileError(ValueError):
    """A list file that cannot be read as its format: says where (line, field) and what is wrong."""

    def __init__(self, path: Path | str, line: int | None, field: str | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


# ---------------------------------------------------------------------------------------------------------
# Text helpers


def _fold(text: str) -> str:
    """Lower case without accents, typographic quotes made plain: for comparing, never for storing."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("’", "'").replace("‘", "'").replace("`", "'").casefold()


def name_key(name: str) -> str:
    """A name reduced for exact comparison: folded case and accents, punctuation gone, spaces collapsed.

    >>> name_key("Aviation Industry Corporation of China, Ltd.")
    'aviation industry corporation of china ltd'
    >>> name_key("M&S Electronics") == name_key("m and s electronics")
    True
    """
    folded = _fold(name).replace("&", " and ")
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def slug(text: str, max_len: int = 64) -> str:
    """A stable ASCII identifier from any text (transliterated); long ones end with a short hash.

    >>> slug("Huawei Technologies Co., Ltd.")
    'huawei-technologies-co-ltd'
    """
    base = re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-") or "x"
    if len(base) <= max_len:
        return base
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{base[: max_len - 9].rstrip('-')}-{digest}"


# Invisible formatting characters (bidi marks, zero-width spaces) that copy-pasted lists carry.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _clean(text: str) -> str:
    """Trim, drop invisible characters and collapse runs of white space."""
    return " ".join(_INVISIBLE.sub("", text).split())


def _dedupe(values: Iterable[str], *, drop: Iterable[str] = ()) -> tuple[str, ...]:
    """Non-empty values in first-seen order, each once (compared case- and accent-insensitively)."""
    seen = {_fold(v) for v in drop}
    out: list[str] = []
    for value in values:
        key = _fold(value)
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return tuple(out)


def _split(text: str, pattern: str = r"[;\n]") -> list[str]:
    """The non-empty, cleaned parts of a multi-valued cell."""
    return [part for part in (_clean(p) for p in re.split(pattern, text)) if part]


# Legal-form words: a comma before one of them is part of a name ("Co., Ltd."), not a list separator.
_LEGAL_FORMS = frozenset({
    "ltd", "limited", "inc", "incorporated", "llc", "llp", "lp", "plc", "co", "corp", "corporation",
    "company", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "ab", "as", "oy", "pte",
    "pty", "jsc", "ojsc", "cjsc", "pjsc", "ooo", "oao", "zao", "ao", "pao", "fzc", "fze", "fzco", "dmcc",
    "sdn", "bhd", "kft", "zrt", "sro", "doo", "ad", "ead", "tbk", "group", "holding", "holdings",
})  # fmt: skip

# Prefixes inside a trailing parenthesis that introduce another name of the party.
_NAME_PREFIX = re.compile(
    r"^(?:formerly(?:\s+known\s+as)?|previously(?:\s+known\s+as)?|also\s+known\s+as|a\.?k\.?a\.?|f/?k/?a"
    r"|former(?:ly)?\s+name|now(?:\s+known\s+as)?|also|or)[\s:,]+",
    re.IGNORECASE,
)


def _is_legal_form(text: str) -> bool:
    words = name_key(text).split()
    return bool(words) and all(w in _LEGAL_FORMS for w in words)


def _unquote(text: str) -> str:
    """Undo CSV quoting left inside a value by the extraction ("…""x""…" and an enclosing pair)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return _clean(text.replace('""', '"'))


def _trailing_parenthesis(text: str) -> tuple[str, str] | None:
    """Split ``"Base (Inner)"`` at its final, balanced parenthesis; None when it does not end with one."""
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                base, inner = text[:i].strip(" ,;-"), text[i + 1 : -1].strip()
                return (base, inner) if base and inner else None
    return None


def expand_name(name: str, *, is_place: Callable[[str], bool] | None = None, _depth: int = 0) -> list[str]:
    """A name and the names hidden in its trailing parenthesis (abbreviation, former name, other script).

    ``"Открытое Акционерное Общество «Концерн «Сириус» (ОАО «Концерн «Сириус»)"`` gives the full text,
    the long form and the abbreviation. A parenthesis that is only a legal form or a place (``is_place``
    returns True for it) is kept in the name but not offered as a name of its own.

    >>> expand_name("Foreign Intelligence Service (SVR)")
    ['Foreign Intelligence Service (SVR)', 'Foreign Intelligence Service', 'SVR']
    >>> expand_name("AVIC Chengdu Aircraft Co. (formerly Zhonghang Instruments Ltd (ZEMIC))")[1:]
    ['AVIC Chengdu Aircraft Co.', 'Zhonghang Instruments Ltd (ZEMIC)', 'Zhonghang Instruments Ltd', 'ZEMIC']
    """
    out = [name]
    split = _trailing_parenthesis(name)
    if split is None or _depth > 2:
        return out
    base, inner = split
    inner = _NAME_PREFIX.sub("", inner).strip()
    if not inner or _is_legal_form(inner) or (is_place is not None and is_place(inner)):
        return out
    out.append(base)
    out.extend(expand_name(inner, is_place=is_place, _depth=_depth + 1))
    return out


def _split_names(text: str, *, commas: bool) -> list[str]:
    """Names in one cell: ``;``-separated; with ``commas``, also comma-separated unless a comma belongs
    to a name (a legal form such as "Co., Ltd." follows it, or a part is too short to be a name)."""
    names: list[str] = []
    for part in _split(text, r"[;|\n]"):
        part = _unquote(part)
        pieces = [_clean(p) for p in part.split(",")] if commas and "," in part else [part]
        if len(pieces) > 1 and all(len(p) >= 3 for p in pieces) and not any(map(_is_legal_form, pieces[1:])):
            names.extend(pieces)
        else:
            names.append(part)
    return [n for n in names if n]


# ---------------------------------------------------------------------------------------------------------
# Contact details

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_EXTENSION = re.compile(r"\(?\b(?:ext(?:ension)?\.?|доб\.?|x)\s*\d+\)?\s*$", re.IGNORECASE)
_PAREN_CC = re.compile(r"^\(\s*\+\s*(\d{1,3})\s*\)")
_TRAILING_EXTENSION = re.compile(r"\s*\(\d{1,5}\)$")  # "+ 7 (843) 202-0502 (112)"


def _emails(text: str) -> list[str]:
    return [m.group(0).strip(".") for m in _EMAIL.finditer(text)]


def _websites(text: str) -> list[str]:
    """Web addresses in a cell, without remarks such as "(offline)"; fragments with no dot are dropped."""
    text = re.sub(r"\([^)]*\)", " ", text)
    return [w.rstrip(",;") for w in re.split(r"[;,\s]+", _clean(text)) if "." in w and "@" not in w]


def _parse_phone(text: str, region: str | None) -> tuple[str | None, str | None]:
    """``(valid, possible)`` E.164 forms of ``text``. Valid also counts a number that becomes valid without
    up to four trailing digits (the EU extraction glued footnote numbers to some: "665-61-54113")."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, None
    national = str(number.national_number)
    for cut in range(5):
        if cut >= len(national) - 4:
            break
        candidate = phonenumbers.PhoneNumber(
            country_code=number.country_code,
            national_number=int(national[: len(national) - cut]),
            italian_leading_zero=number.italian_leading_zero,
            number_of_leading_zeros=number.number_of_leading_zeros,
        )
        if phonenumbers.is_valid_number(candidate):
            return str(phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)), None
    if phonenumbers.is_possible_number(number):
        return None, str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return None, None


def _format_phone(fragment: str, region: str | None) -> str | None:
    """One phone number in E.164 when it is (nearly) valid, else its digits (with the + it was written
    with). Numbers without a country code need ``region``."""
    fragment = _PAREN_CC.sub(r"+\1", _TRAILING_EXTENSION.sub("", fragment.strip()))
    digits = re.sub(r"\D", "", fragment)
    if len(digits) < 5:  # a stray country code or extension, not a number
        return None
    plus = fragment.lstrip("( ").startswith("+")
    if not plus:
        return (_parse_phone(fragment, region)[0] if region else None) or digits
    valid, possible = _parse_phone(fragment, None)
    if valid is None and region:
        # "+ 8 (800) 600-42-30": a national number written behind a "+" by mistake.
        valid = _parse_phone(fragment.replace("+", "", 1), region)[0]
    return valid or possible or "+" + digits


def _region_of(e164: str) -> str | None:
    if not e164.startswith("+"):
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return str(region) if region and region != "ZZ" else None


def split_phones(text: str, region: str | None = None) -> tuple[str, ...]:
    """Every phone number in a messy cell, normalised (E.164 where possible).

    Numbers are separated by ``;``, ``,`` or ``/``. A short fragment after a full number shares its
    prefix ("+ 7 (495) 681-16-18, 681-10-39" is two Moscow numbers). Numbers written without a country
    code take ``region`` (the entry's country) or the previous number's country. E-mail addresses that
    strayed into the cell are ignored here (read them with the e-mail field).

    >>> split_phones("+ 7 (495) 681-16-18, 681-10-39")
    ('+74956811618', '+74956811039')
    >>> split_phones("8-800-200-1807", "RU")
    ('+78002001807',)
    """
    out: list[str] = []
    previous: str | None = None
    for raw in re.split(r"[;,/\n]", _EMAIL.sub(" ", _INVISIBLE.sub("", text))):
        fragment = _EXTENSION.sub("", _clean(raw))
        digits = re.sub(r"\D", "", fragment)
        if len(digits) < 5:
            continue
        starts_local = not fragment.lstrip("( ").startswith(("+", "0", "8")) and "(" not in fragment
        if previous is not None and previous.startswith("+") and starts_local and len(digits) <= 8:
            prev_digits = previous[1:]
            if len(digits) < len(prev_digits) - 1:
                out.append("+" + prev_digits[: len(prev_digits) - len(digits)] + digits)
                continue
        number = _format_phone(fragment, region or (_region_of(previous) if previous else None))
        if number is not None:
            out.append(number)
            previous = number
    return _dedupe(out)


# ---------------------------------------------------------------------------------------------------------
# Countries

# Names the ISO table does not carry but lists and addresses use.
_COUNTRY_SYNONYMS = {
    "russia": "RU",
    "ussr": "RU",
    "people's republic of china": "CN",
    "p.r. china": "CN",
    "p. r. china": "CN",
    "prc": "CN",
    "mainland china": "CN",
    "hongkong": "HK",
    "hong kong sar": "HK",
    "macau": "MO",
    "turkey": "TR",
    "republic of turkiye": "TR",
    "uae": "AE",
    "u.a.e.": "AE",
    "u.a.e": "AE",
    "vietnam": "VN",
    "kyrgyz republic": "KG",
    "south korea": "KR",
    "north korea": "KP",
    "dprk": "KP",
    "syria": "SY",
    "laos": "LA",
    "czech republic": "CZ",
    "burma": "MM",
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "usa": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "macedonia": "MK",
    "swaziland": "SZ",
    "cape verde": "CV",
    "east timor": "TL",
    "brunei": "BN",
    "vatican": "VA",
    "holland": "NL",
}

# Country names that are also parts of other place names ("New Jersey").
_NOT_AFTER = {"jersey": "new "}


class CountryResolver:
    """ISO alpha-2 codes from codes, country names (official, inverted, common synonyms) or address text."""

    def __init__(self, official: Mapping[str, str] | None = None) -> None:
        self.codes: frozenset[str] | None = frozenset(c.upper() for c in official) if official else None
        names: dict[str, str | None] = {}

        def add(name: str, code: str) -> None:
            key = _fold(name).strip()
            if not key:
                return
            if key in names and names[key] != code:
                names[key] = None  # ambiguous stem ("Korea", "Congo"): not a name of either
            else:
                names[key] = code

        for code, name in (official or {}).items():
            plain = re.sub(r"\s*\([^)]*\)", "", name).strip()
            add(name, code.upper())
            add(plain, code.upper())
            if ", " in plain:  # "Iran, Islamic Republic of" -> "Islamic Republic of Iran" and "Iran"
                stem, qualifier = plain.split(", ", 1)
                add(f"{qualifier} {stem}", code.upper())
                add(stem, code.upper())
        if official:
            for name, code in _COUNTRY_SYNONYMS.items():
                if code in self.codes:  # type: ignore[operator]
                    names.setdefault(name, code)
        self.names: dict[str, str] = {k: v for k, v in names.items() if v is not None}
        alternatives = []
        for name in sorted(self.names, key=len, reverse=True):
            guard = f"(?<!{re.escape(_NOT_AFTER[name])})" if name in _NOT_AFTER else ""
            alternatives.append(guard + re.escape(name))
        self._pattern = (
            re.compile(r"(?<![^\W\d_])(?:" + "|".join(alternatives) + r")(?![^\W\d_])")
            if alternatives
            else None
        )

    def code(self, value: str) -> str | None:
        """The ISO code a cell states: a two-letter code (any case) or a country name."""
        value = _clean(value)
        if re.fullmatch(r"[A-Za-z]{2}", value):
            upper = value.upper()
            if self.codes is None or upper in self.codes:
                return upper
        return self.names.get(_fold(value).strip(" ."))

    def is_place(self, text: str) -> bool:
        """True when ``text`` is only a country name (so not a name of a company)."""
        return _fold(_clean(text)).strip(" .") in self.names

    def in_text(self, text: str) -> str | None:
        """The country an address names: its last country name, or a trailing ISO code ("…, CN")."""
        tail = text.rsplit(",", 1)[-1].strip(" .")
        if re.fullmatch(r"[A-Z]{2}", tail) and (self.codes is None or tail in self.codes):
            return tail
        if self._pattern is None:
            return None
        matches = list(self._pattern.finditer(_fold(text)))
        if not matches:
            return None
        last = matches[-1]
        code = self.names[last.group(0)]
        # "Kowloon, Hong Kong, China": the territory is the more precise answer.
        if code == "CN" and len(matches) > 1:
            before = matches[-2]
            between = _fold(text)[before.end() : last.start()]
            if self.names[before.group(0)] in {"HK", "MO", "TW"} and re.fullmatch(r"[\s,]*", between):
                return self.names[before.group(0)]
        return code


@lru_cache(maxsize=8)
def _resolver(official: tuple[tuple[str, str], ...]) -> CountryResolver:
    return CountryResolver(dict(official))


# ---------------------------------------------------------------------------------------------------------
# Record drafts: what a parser collects from one row, finished the same way for every format


@dataclass
class _Draft:
    line: int
    entry_id: str
    name: str
    name_field: str
    kind: str = "company"
    countries: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # other names: aliases, previous names, other scripts
    addresses: list[str] = field(default_factory=list)
    phone_cells: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    websites: list[str] = field(default_factory=list)
    registration_ids: list[str] = field(default_factory=list)
    parent_names: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    start_date: date | None = None
    extra: dict[str, str] = field(default_factory=dict)


class _Getter:
    """Cells of one row by column; a column the file lacks reads as empty (optional columns)."""

    def __init__(self, row: Mapping[str, str]) -> None:
        self.row = row

    def __call__(self, column: str) -> str:
        return self.row.get(column, "")


@dataclass(frozen=True)
class _Context:
    path: Path
    list_name: str
    countries: CountryResolver

    def error(self, line: int | None, column: str | None, message: str) -> ListFileError:
        return ListFileError(self.path, line, column, message)


def _finish(draft: _Draft, ctx: _Context) -> ListRecord:
    # A trailing "*" is a footnote marker of the source document (DoD 1260H), not part of a name.
    name = _unquote(draft.name).rstrip("*").strip()
    if not name:
        raise ctx.error(draft.line, draft.name_field, "empty name")
    if not draft.entry_id:
        raise ctx.error(draft.line, None, "no entry id")
    names: list[str] = []
    for other in [name, *draft.names]:
        names.extend(expand_name(_unquote(other).rstrip("*").strip(), is_place=ctx.countries.is_place))
    country = next((c for c in map(ctx.countries.code, draft.countries) if c), None)
    stated = [c for c in draft.countries if c.strip()]
    if stated and country is None:
        draft.extra["country"] = "; ".join(stated)  # kept for the analyst; not an ISO code we know
    addresses = _dedupe(_clean(a).strip(" ,;") for a in draft.addresses)
    if country is None:
        country = next((c for c in map(ctx.countries.in_text, addresses) if c), None)
    phones: list[str] = []
    emails = list(draft.emails)
    for cell in draft.phone_cells:
        phones.extend(split_phones(cell, country))
        emails.extend(_emails(cell))
    return ListRecord(
        list_name=ctx.list_name,
        entry_id=draft.entry_id,
        name=name,
        kind=draft.kind,
        country=country,
        aliases=_dedupe(names, drop=[name]),
        addresses=addresses,
        phones=_dedupe(phones),
        emails=_dedupe(emails),
        websites=_dedupe(draft.websites),
        registration_ids=_dedupe(_clean(r) for r in draft.registration_ids),
        parent_names=_dedupe(_unquote(p) for p in draft.parent_names),
        programs="; ".join(_dedupe(draft.programs)) or None,
        start_date=draft.start_date,
        extra=draft.extra,
    )


def _parse_date(value: str, ctx: _Context, line: int, column: str) -> date | None:
    """ISO dates (with or without a time), ``D.M.YYYY`` and ``YYYY/MM/DD``; anything else is an error."""
    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(value[:10] if pattern == "%Y-%m-%d" else value, pattern).date()
        except ValueError:
            continue
    raise ctx.error(line, column, f"not a date: {value!r} (expected YYYY-MM-DD or D.M.YYYY)")


_KINDS = {
    "person": "person",
    "individual": "person",
    "natural person": "person",
    "vessel": "vessel",
    "ship": "vessel",
    "aircraft": "other",
    "airplane": "other",
}


def _kind(value: str) -> str:
    """Entry kind from a type cell; organisations of every sort are companies for screening."""
    return _KINDS.get(name_key(value), "company")


# ---------------------------------------------------------------------------------------------------------
# CSV reading with line numbers


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ListFileError(path, None, None, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ListFileError(path, line, None, "not UTF-8 text; save the file as UTF-8") from exc


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and ``(line, {header: cell})`` per data row; a row whose cell count differs is an error."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = [_clean(h) for h in next(reader)]
    except StopIteration:
        raise ListFileError(path, 1, None, "empty file: no header row") from None
    except csv.Error as exc:
        raise ListFileError(path, 1, None, f"bad CSV: {exc}") from exc
    if not any(header):
        raise ListFileError(path, 1, None, "empty header row")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        line = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ListFileError(path, line, None, f"bad CSV: {exc}") from exc
            if any(c.strip() for c in cells):
                if len(cells) != len(header):
                    raise ListFileError(
                        path, line, None, f"{len(cells)} cells where the header has {len(header)} columns"
                    )
                yield line, dict(zip(header, cells, strict=True))
            line = reader.line_num + 1

    return header, rows()


def _require(header: Sequence[str], columns: Iterable[str], ctx: _Context, fmt: str) -> None:
    for column in columns:
        if column not in header:
            raise ctx.error(1, column, f"missing column {column!r}, which the {fmt} format requires")


# ---------------------------------------------------------------------------------------------------------
# EU Annex IV CSV

_EU_COLUMNS = (
    "recordId",
    "startDate",
    "name",
    "alias",
    "registrationNumber",
    "address",
    "phone",
    "email",
    "website",
)


def _parse_eu(path: Path, ctx: _Context) -> list[ListRecord]:
    header, rows = _csv_rows(path)
    _require(header, ("recordId", "name"), ctx, "eu-csv")
    out = []
    for line, row in rows:
        get = _Getter(row)
        draft = _Draft(line=line, entry_id=_clean(get("recordId")), name=get("name"), name_field="name")
        if not draft.entry_id:
            raise ctx.error(line, "recordId", "empty recordId")
        draft.names = _split_names(get("alias"), commas=False)
        draft.registration_ids = _split(get("registrationNumber"), r"[;\n]|,\s")
        draft.addresses = _split(get("address"))
        draft.phone_cells = [get("phone")]
        draft.emails = _emails(get("email"))
        draft.websites = _websites(get("website"))
        draft.start_date = _parse_date(get("startDate"), ctx, line, "startDate")
        draft.extra = {k: v for k, v in row.items() if k not in _EU_COLUMNS and v.strip()}
        out.append(_finish(draft, ctx))
    return out


# ---------------------------------------------------------------------------------------------------------
# US Consolidated Screening List CSV

_CSL_USED = ("_id", "entity_number", "type", "programs", "name", "addresses", "start_date", "alt_names",
             "ids", "citizenships", "nationalities", "vessel_flag")  # fmt: skip


# CSL "ids" types that describe the party rather than identify it.
_CSL_NOT_IDS = ("gender", "sanctions", "organization type", "organization established", "target type",
                "year of build", "listing date", "effective date", "executive order",
                "prohibited")  # fmt: skip


def _csl_ids(cell: str, draft: _Draft) -> None:
    """``"Type, Number, Country; ..."``: websites, e-mails and phones to their fields, identifiers as
    ``"Number (Type)"``; descriptive items (gender, sanctions notes) go to ``extra["ids"]``."""
    for item in _split(cell):
        parts = [p.strip() for p in item.split(",")]
        kind = parts[0] if len(parts) > 1 else ""
        country = parts[-1] if len(parts) > 2 and re.fullmatch(r"[A-Za-z]{2}|", parts[-1]) else None
        value = ", ".join(parts[1 : -1 if country is not None else None]) if kind else item
        value = value.strip()
        if not value:
            continue
        kind_key = name_key(kind)
        if "website" in kind_key:
            draft.websites.extend(_websites(value))
        elif "email" in kind_key:
            draft.emails.extend(_emails(value))
        elif "phone" in kind_key or "telephone" in kind_key:
            draft.phone_cells.append(value)
        elif any(word in kind_key for word in _CSL_NOT_IDS):
            draft.extra["ids"] = "; ".join(filter(None, [draft.extra.get("ids"), item]))
        else:
            draft.registration_ids.append(f"{value} ({kind})" if kind else value)


def _parse_csl(path: Path, ctx: _Context) -> list[ListRecord]:
    header, rows = _csv_rows(path)
    _require(header, ("_id", "name"), ctx, "csl-csv")
    out = []
    for line, row in rows:
        get = _Getter(row)
        entry_id = _clean(get("_id")) or _clean(get("entity_number"))
        if not entry_id:
            raise ctx.error(line, "_id", "empty _id")
        draft = _Draft(
            line=line, entry_id=entry_id, name=get("name"), name_field="name", kind=_kind(get("type"))
        )
        draft.names = _split_names(get("alt_names"), commas=False)
        # CSL addresses are "street, city, state, postal code, CC" with empty parts left as ", ,".
        for address in _split(get("addresses")):
            parts = [p.strip() for p in address.split(",") if p.strip()]
            draft.addresses.append(", ".join(parts))
            if parts and re.fullmatch(r"[A-Z]{2}", parts[-1]):
                draft.countries.append(parts[-1])
        for column in ("nationalities", "citizenships", "vessel_flag"):
            draft.countries += _split(get(column), r"[;,]")
        draft.extra = {k: v for k, v in row.items() if k not in _CSL_USED and v.strip()}
        _csl_ids(get("ids"), draft)
        draft.programs = _split(get("programs"))
        draft.start_date = _parse_date(get("start_date"), ctx, line, "start_date")
        out.append(_finish(draft, ctx))
    return out


# ---------------------------------------------------------------------------------------------------------
# Plain CSV with recognised or mapped headers

# Field -> header names it is recognised by (compared after ``_header_key``). For "name" the order is the
# preference when a file has several name columns; the others become aliases.
_HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "entry id", "entity id", "record id", "uid", "list id", "reference", "reference number",
           "ref", "entity number"),
    "name": ("name", "entity name", "company name", "organisation name", "organization name", "party name",
             "legal name", "full name", "primary name", "entity", "company", "organisation", "organization",
             "clean name"),
    "alias": ("alias", "aliases", "aka", "a k a", "also known as", "alt names", "alt name", "alternate names",
              "alternate name", "alternative names", "other names", "name variants", "weak alias",
              "previous name", "previous names", "former name", "former names", "formerly"),
    "country": ("country", "countries", "country code", "country iso", "iso2", "nationality", "jurisdiction",
                "country of registration", "country of incorporation"),
    "address": ("address", "addresses", "street address", "full address", "registered address", "location"),
    "phone": ("phone", "phones", "telephone", "telephones", "tel", "phone number", "phone numbers",
              "telephone number", "telephone numbers", "mobile"),
    "email": ("email", "emails", "e mail", "email address", "email addresses", "e mail address"),
    "website": ("website", "websites", "web site", "web sites", "web", "homepage", "home page", "site",
                "domain", "web address"),
    "registration": ("registration", "registration number", "registration numbers", "registration id",
                     "registration no", "reg no", "reg number", "company number", "tax id", "tin", "inn",
                     "ogrn", "vat", "identifiers", "ids", "id numbers", "identification number"),
    "parent": ("parent", "parent name", "parent names", "parent company", "parent companies", "owner",
               "owners", "owned by", "parent entity", "ultimate parent"),
    "program": ("program", "programs", "programme", "programmes", "sanctions program", "regime"),
    "start_date": ("start date", "start", "date", "listed on", "listing date", "date listed",
                   "designation date", "date of designation", "added", "effective date"),
    "kind": ("type", "kind", "entity type", "schema", "party type"),
}  # fmt: skip

# Accepted spellings of ``--map`` field names.
MAP_FIELDS: dict[str, str] = {f: f for f in _HEADER_NAMES} | {
    "entry_id": "id",
    "aliases": "alias",
    "countries": "country",
    "addresses": "address",
    "phones": "phone",
    "emails": "email",
    "websites": "website",
    "registration_id": "registration",
    "registration_ids": "registration",
    "parent_name": "parent",
    "parent_names": "parent",
    "programs": "program",
    "date": "start_date",
    "type": "kind",
}


def _header_key(header: str) -> str:
    """``"registrationNumber"``, ``"Registration_Number"`` and ``"REGISTRATION NUMBER"`` all read the same."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header)
    return " ".join(re.sub(r"[\W_]+", " ", _fold(spaced)).split())


def _plan_columns(header: Sequence[str], mapping: Mapping[str, str], ctx: _Context) -> dict[str, list[str]]:
    """Which columns feed which field: ``mapping`` first, then recognised header names."""
    plan: dict[str, list[str]] = {f: [] for f in _HEADER_NAMES}
    taken: set[str] = set()
    for given, column in mapping.items():
        target = MAP_FIELDS.get(given.strip().lower())
        if target is None:
            known = ", ".join(sorted(_HEADER_NAMES))
            raise ctx.error(None, given, f"unknown --map field {given!r}; known fields: {known}")
        match = next((h for h in header if h == column), None) or next(
            (h for h in header if _header_key(h) == _header_key(column)), None
        )
        if match is None:
            raise ctx.error(1, column, f"--map {given}={column}: the header has no column {column!r}")
        plan[target].append(match)
        taken.add(match)
    mapped = {f for f, cols in plan.items() if cols}
    for target, names in _HEADER_NAMES.items():
        if target in mapped:
            continue
        found = [h for n in names for h in header if h not in taken and _header_key(h) == n]
        plan[target].extend(found)
        taken.update(found)
    if not plan["name"]:
        raise ctx.error(
            1,
            "name",
            "no name column: call one 'Name' (or 'Entity Name', 'Company Name' ...) or use --map name=HEADER",
        )
    return plan


class _Cells:
    """The non-empty cells of one row that feed a field, per the column plan."""

    def __init__(self, row: Mapping[str, str], plan: Mapping[str, list[str]]) -> None:
        self.row = row
        self.plan = plan

    def all(self, target: str) -> list[str]:
        return [self.row[c] for c in self.plan[target] if self.row[c].strip()]

    def first(self, target: str) -> str:
        return next(iter(self.all(target)), "")


def _parse_csv(path: Path, ctx: _Context, mapping: Mapping[str, str]) -> list[ListRecord]:
    header, rows = _csv_rows(path)
    plan = _plan_columns(header, mapping, ctx)
    used = {c for cols in plan.values() for c in cols}
    name_col, *other_name_cols = plan["name"]
    out = []
    seen_ids: dict[str, int] = {}
    for line, row in rows:
        cells = _Cells(row, plan)
        name = row[name_col]
        if not _clean(name):
            raise ctx.error(line, name_col, "empty name")
        entry_id = _clean(cells.first("id"))
        if not entry_id:
            # No id column: a slug of the name, numbered when a name repeats (the DoD list names some
            # companies once per designation year), so ids stay stable while the file's order does.
            # At most 48 characters (+ "-N"), so "{list}:{entry_id}" fits the 80 of an edge end.
            base = slug(_unquote(name).rstrip("*"), 48)
            seen_ids[base] = seen_ids.get(base, 0) + 1
            entry_id = base if seen_ids[base] == 1 else f"{base}-{seen_ids[base]}"
        kind = _kind(cells.first("kind"))
        draft = _Draft(line=line, entry_id=entry_id, name=name, name_field=name_col, kind=kind)
        # Commas separate company aliases ("Knownsec,Beijing Kownsec") but not "SURNAME, Given" names.
        draft.names = [row[c] for c in other_name_cols] + [
            n for cell in cells.all("alias") for n in _split_names(cell, commas=kind != "person")
        ]
        draft.countries = [c for cell in cells.all("country") for c in _split(cell, r"[;,\n]")]
        draft.addresses = [a for cell in cells.all("address") for a in _split(cell)]
        draft.phone_cells = cells.all("phone")
        draft.emails = [e for cell in cells.all("email") for e in _emails(cell)]
        draft.websites = [w for cell in cells.all("website") for w in _websites(cell)]
        draft.registration_ids = [r for cell in cells.all("registration") for r in _split(cell, r"[;\n]|,\s")]
        draft.parent_names = [p for cell in cells.all("parent") for p in _split(cell, r"[;|\n]")]
        draft.programs = [p for cell in cells.all("program") for p in _split(cell)]
        draft.start_date = _parse_date(
            cells.first("start_date"), ctx, line, (plan["start_date"] or ["date"])[0]
        )
        draft.extra = {k: v for k, v in row.items() if k not in used and v.strip()}
        out.append(_finish(draft, ctx))
    return out


# ---------------------------------------------------------------------------------------------------------
# OpenSanctions FollowTheMoney JSON lines

_FTM_PARTIES = {"Company": "company", "Organization": "company", "LegalEntity": "company",
                "PublicBody": "company", "Person": "person", "Vessel": "vessel",
                "Airplane": "other"}  # fmt: skip
_FTM_NAMES = ("alias", "weakAlias", "previousName", "abbreviation")
_FTM_COUNTRIES = (
    "country",
    "jurisdiction",
    "mainCountry",
    "registrationCountry",
    "nationality",
    "citizenship",
)
_FTM_IDS = ("registrationNumber", "innCode", "ogrnCode", "taxNumber", "vatCode", "leiCode", "okpoCode",
            "kppCode", "swiftBic", "imoNumber", "dunsCode", "uniqueEntityId", "idNumber",
            "bikCode")  # fmt: skip


@dataclass
class _FtmEntity:
    line: int
    id: str
    schema: str
    props: dict[str, list[str]]
    first_seen: str


def _ftm_entities(path: Path, ctx: _Context) -> list[_FtmEntity]:
    out = []
    for line, raw in enumerate(_read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ctx.error(line, None, f"bad JSON: {exc.msg} at column {exc.colno}") from exc
        if not isinstance(obj, dict):
            raise ctx.error(line, None, "each line must be one JSON object (an entity)")
        for key in ("id", "schema"):
            if not isinstance(obj.get(key), str) or not obj[key].strip():
                raise ctx.error(line, key, f"missing or empty {key!r}")
        props = obj.get("properties", {})
        if not isinstance(props, dict):
            raise ctx.error(line, "properties", "'properties' must be an object of lists")
        clean: dict[str, list[str]] = {}
        for key, values in props.items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ctx.error(
                    line, f"properties.{key}",
                    "values must be lists of strings (nested entities are not supported: use the flat "
                    "entities.ftm.json export)",
                )  # fmt: skip
            clean[key] = [_clean(v) for v in values if _clean(v)]
        first_seen = obj.get("first_seen")
        out.append(_FtmEntity(line, obj["id"].strip(), obj["schema"], clean,
                              first_seen if isinstance(first_seen, str) else ""))  # fmt: skip
    return out


def _parse_ftm(path: Path, ctx: _Context) -> list[ListRecord]:
    entities = _ftm_entities(path, ctx)
    by_id = {e.id: e for e in entities}
    owners: dict[str, list[str]] = {}
    sanctions: dict[str, list[_FtmEntity]] = {}
    for e in entities:
        if e.schema == "Ownership":
            for asset in e.props.get("asset", []):
                owners.setdefault(asset, []).extend(e.props.get("owner", []))
        elif e.schema == "Sanction":
            for target in e.props.get("entity", []):
                sanctions.setdefault(target, []).append(e)
    out = []
    skipped: dict[str, int] = {}
    for e in entities:
        if e.schema not in _FTM_PARTIES:
            skipped[e.schema] = skipped.get(e.schema, 0) + 1
            continue
        names = e.props.get("name", [])
        draft = _Draft(line=e.line, entry_id=e.id, name=names[0] if names else "",
                       name_field="properties.name", kind=_FTM_PARTIES[e.schema])  # fmt: skip
        draft.names = names[1:] + [n for key in _FTM_NAMES for n in e.props.get(key, [])]
        draft.countries = [c for key in _FTM_COUNTRIES for c in e.props.get(key, [])]
        draft.addresses = list(e.props.get("address", []))
        for ref in e.props.get("addressEntity", []):
            address = by_id.get(ref)
            if address is not None:
                parts = ("street", "postalCode", "city", "region")
                full = address.props.get("full") or [
                    ", ".join(v for k in parts for v in address.props.get(k, []))
                ]
                draft.addresses.extend(full)
                draft.countries.extend(address.props.get("country", []))
        draft.phone_cells = e.props.get("phone", [])
        draft.emails = list(e.props.get("email", []))
        draft.websites = [w for cell in e.props.get("website", []) for w in _websites(cell)]
        draft.registration_ids = [v for key in _FTM_IDS for v in e.props.get(key, [])]
        for owner_id in owners.get(e.id, []):
            owner = by_id.get(owner_id)
            owner_names = owner.props.get("name", []) if owner is not None else []
            if owner_names:
                draft.parent_names.append(owner_names[0])
            else:
                log.warning("ftm owner %s of %s is not in %s: parent link dropped", owner_id, e.id, path.name)
        dates = []
        for sanction in sanctions.get(e.id, []):
            draft.programs += sanction.props.get("program", []) + sanction.props.get("programId", [])
            dates += sanction.props.get("startDate", []) + sanction.props.get("listingDate", [])
        draft.programs += e.props.get("program", [])
        if dates:
            draft.start_date = _parse_date(min(dates), ctx, e.line, "Sanction.startDate")
        out.append(_finish(draft, ctx))
    if skipped:
        log.info("ftm entities of other schemas not imported as entries: %s", skipped)
    return out


# ---------------------------------------------------------------------------------------------------------


def parse_list_file(
    path: Path,
    fmt: str,
    list_name: str,
    mapping: dict[str, str] | None = None,
    *,
    countries: Mapping[str, str] | None = None,
) -> list[ListRecord]:
    """Read a screening-list file of format ``fmt`` (one of ``FORMATS``) into records of ``list_name``.

    ``mapping`` (plain ``csv`` only) maps a field (``name``, ``alias``, ``country``, ``address``, ``phone``,
    ``email``, ``website``, ``registration``, ``parent``, ``program``, ``start_date``, ``kind``, ``id``) to
    a header. ``countries`` is the reference table ``{iso2: name}`` used to read countries from names and
    addresses. Raises :class:`ListFileError` naming the line and field of the first problem.
    """
    path = Path(path)
    official = tuple(sorted((countries or {}).items()))
    ctx = _Context(path=path, list_name=list_name, countries=_resolver(official))
    if fmt not in FORMATS:
        raise ctx.error(None, None, f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if mapping and fmt != "csv":
        raise ctx.error(None, None, f"--map applies to the plain csv format, not {fmt}")
    if not path.is_file():
        raise ctx.error(None, None, "no such file")
    if fmt == "eu-csv":
        records = _parse_eu(path, ctx)
    elif fmt == "csl-csv":
        records = _parse_csl(path, ctx)
    elif fmt == "ftm-json":
        records = _parse_ftm(path, ctx)
    else:
        records = _parse_csv(path, ctx, mapping or {})
    log.info("parsed %d entries of list %s from %s (%s)", len(records), list_name, path.name, fmt)
    return records
