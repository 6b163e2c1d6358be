"""Party contact details as evidence: web presence, phone country, residential / free-zone / mail-centre
addresses. Vectorised over Arrow string columns (one RE2 pass per test).

The address patterns cover English, Chinese and Russian wording. They are deliberately conservative:
an office room number ("Room 1205", "1205室") is not a residence; an apartment or flat number is.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import numpy.typing as npt
import phonenumbers
import pyarrow as pa

from features import reference
from features.arrow import SMALL, Col, chunk, on_distinct, pc
from features.regex import Pattern

__all__ = [
    "free_mail",
    "free_zone_address",
    "mail_center_address",
    "no_web_presence",
    "phone_country_mismatch",
    "residential_address",
]

_FREE_MAIL = (
    r"(?i)@(gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|me|mail|gmx|web|proton|"
    r"protonmail|tutanota|yandex|ya|mail\.ru|inbox|list|bk|rambler|qq|163|126|yeah|sina|sohu|aliyun|"
    r"foxmail|139|naver|daum|rediffmail|zoho)\.[a-z.]+$"
)
_RESIDENTIAL = (
    r"(?i)\bapt\.?\s*#?\d|\bapartment\b|\bflat\s+\d|\bresiden(ce|tial)\b|\bhouse\s+no\b|\bhome\s+address\b|"
    r"\bkv\.?\s*\d|"
    r"(^|[^\pL])кв\.?\s*\d|квартир|小区|住宅|公寓"
)
_FREE_ZONE = (
    r"(?i)free\s*(trade\s*)?zone|freezone|\bfz(e|co|-?llc)\b|jafza|dafza|saif\s*zone|hamriyah|kizad|"
    r"rakez|\bdmcc\b|\bftz\b|serbest\s+b[oö]lge|special\s+economic\s+zone|\bbonded\b|自由贸易|自贸区|保税|"
    r"свободн[\pL\pN_]*\s+(экономическ|таможенн)[\pL\pN_]*\s+зон|(^|[^\pL])[оc]эз([^\pL]|$)"
)
# Legal forms only free-zone companies take (UAE): the company sits in a free zone whatever its address.
_FREE_ZONE_NAME = r"(?i)\bfz(e|co|-?llc)\b|\bdmcc\b"
_MAIL_CENTER = (
    r"(?i)p\.?\s*o\.?\s*box|post\s+office\s+box|\bpmb\b|mail\s*box|mail\s+(center|centre)|virtual\s+office|"
    r"\bc/o\b|(^|[^\pL])а/я([^\pL]|$)|абонентск[\pL\pN_]*\s+ящик|信箱"
)

FREE_MAIL = Pattern(_FREE_MAIL)
RESIDENTIAL = Pattern(_RESIDENTIAL)
FREE_ZONE_NAME = Pattern(_FREE_ZONE_NAME)
FREE_ZONE = Pattern(_FREE_ZONE)
MAIL_CENTER = Pattern(_MAIL_CENTER)


def _bools(result: Col) -> npt.NDArray[np.bool_]:
    return np.asarray(result.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _blank(arr: Col) -> Col:
    return pc.or_kleene(pc.is_null(arr), pc.equal(pc.utf8_trim_whitespace(arr), "")).fill_null(True)


def free_mail(emails: Col) -> npt.NDArray[np.bool_]:
    """True where the e-mail address is at a free web-mail provider (gmail.com, qq.com, mail.ru ...)."""
    return FREE_MAIL.search(emails)


def no_web_presence(websites: Col, emails: Col) -> npt.NDArray[np.bool_]:
    """True where a party has no website and no e-mail at a company domain (FCN-23-NO-WEB)."""
    no_site = _bools(_blank(websites))
    no_domain_mail = _bools(_blank(emails)) | free_mail(emails)
    return no_site & no_domain_mail


def residential_address(addresses: Col) -> npt.NDArray[np.bool_]:
    """True where the address is a residence (apartment / flat number, "квартира", "小区")."""
    return RESIDENTIAL.search(addresses)


def free_zone_address(addresses: Col, names: Col | None = None) -> npt.NDArray[np.bool_]:
    """True where the address is in a free trade zone (JAFZA, "Free Zone", "保税区", "ОЭЗ" ...) or, with
    ``names``, the company has a free-zone legal form (FZE, FZCO, FZ-LLC, DMCC)."""
    found = FREE_ZONE.search(addresses)
    if names is not None:
        found |= FREE_ZONE_NAME.search(names)
    return found


def mail_center_address(addresses: Col) -> npt.NDArray[np.bool_]:
    """True where the address is a P.O. box, mail centre or virtual office."""
    return MAIL_CENTER.search(addresses)


@cache
def _calling_prefixes() -> tuple[Col, Col]:
    # "+<country calling code>" for every reference country phonenumbers knows.
    keys, values = [], []
    for iso2 in reference.countries():
        code = phonenumbers.country_code_for_region(iso2)
        if code:
            keys.append(iso2)
            values.append(f"+{code}")
    return pa.array(keys, type=pa.string()), pa.array(values, type=pa.string())


@cache
def _calling_prefix_by_country() -> dict[str, str]:
    keys, values = _calling_prefixes()
    return dict(zip(keys.to_pylist(), values.to_pylist(), strict=True))


_NOT_DIALLED = re.compile(r"[^0-9+]")
_TRUNK_00 = re.compile(r"^00")


def _mismatch_one(phone: str | None, expected: str | None) -> bool:
    # One number in Python: the same steps as the column kernels below (keep digits and "+", a leading
    # "00" is "+", then compare the calling code), for the few numbers of one shipment.
    if phone is None or expected is None:
        return False
    digits = _TRUNK_00.sub("+", _NOT_DIALLED.sub("", phone), count=1)
    return digits.startswith("+") and not digits.startswith(expected)


def _international_digits(phones: Col) -> Col:
    digits = pc.replace_substring_regex(phones, pattern=r"[^0-9+]", replacement="")
    return pc.replace_substring_regex(digits, pattern=r"^00", replacement="+")


def phone_country_mismatch(phones: Col, countries: Col) -> npt.NDArray[np.bool_]:
    """True where an international phone number's calling code is not the party country's.

    Numbers without an international prefix ("+" or "00") or parties of unknown country are not judged
    (False): the national format carries no country. Calling codes are prefix-free, so comparing the
    first one to three digits with the expected code is exact.
    """
    if len(phones) <= SMALL:  # a few parties: plain Python beats a dozen kernel calls
        prefix = _calling_prefix_by_country()
        pairs = zip(chunk(phones).to_pylist(), chunk(countries).to_pylist(), strict=True)
        return np.fromiter(
            (_mismatch_one(p, prefix.get(c) if c is not None else None) for p, c in pairs),
            dtype=np.bool_,
            count=len(phones),
        )
    digits = on_distinct(phones, _international_digits)
    international = _bools(pc.starts_with(digits, "+"))
    keys, values = _calling_prefixes()
    expected = pc.take(values, pc.index_in(countries, value_set=keys))
    known = _bools(pc.is_valid(expected))
    match = np.zeros(len(phones), dtype=np.bool_)
    for width in (2, 3, 4):
        head = pc.utf8_slice_codeunits(digits, 0, width)
        match |= _bools(pc.equal(head, expected))
    return international & known & ~match
