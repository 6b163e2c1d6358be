"""Company and person names, addresses, phones, e-mails, websites and registration ids per country.

Each function takes a :class:`world.draw.Uniforms` stream so that a seed fixes every string.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import phonenumbers

from features import reference
from world import vocab
from world.draw import Uniforms, slug

__all__ = [
    "CompanyName",
    "address",
    "company_name",
    "country_name",
    "email",
    "person_name",
    "phone",
    "registration_id",
    "website_domain",
]

_LOCAL_INDUSTRY: dict[str, dict[str, tuple[str, ...]]] = {
    "de": {
        "electronics": ("Elektronik", "Halbleiter", "Bauelemente"),
        "instruments": ("Messtechnik", "Optik"),
        "machinery": ("Maschinenbau", "Werkzeugmaschinen", "Automation"),
        "logistics": ("Logistik", "Spedition"),
        "trading": ("Handel", "Handelsgesellschaft", "Import-Export"),
    },
    "fr": {
        "electronics": ("Électronique", "Composants"),
        "instruments": ("Instruments", "Optique"),
        "machinery": ("Mécanique", "Machines-Outils"),
        "logistics": ("Logistique", "Transports"),
        "trading": ("Négoce", "Import-Export"),
    },
    "es": {
        "electronics": ("Electrónica", "Componentes"),
        "instruments": ("Instrumentos",),
        "machinery": ("Maquinaria", "Industrial"),
        "logistics": ("Logística", "Transportes"),
        "trading": ("Comercial", "Importadora"),
    },
    "it": {
        "electronics": ("Elettronica", "Componenti"),
        "instruments": ("Strumenti",),
        "machinery": ("Meccanica", "Macchine Utensili"),
        "logistics": ("Logistica", "Trasporti"),
        "trading": ("Commerciale",),
    },
    "pt": {
        "electronics": ("Eletrônica", "Componentes"),
        "machinery": ("Máquinas",),
        "logistics": ("Logística", "Transportes"),
        "trading": ("Comercial", "Importadora"),
    },
    "tr": {
        "electronics": ("Elektronik",),
        "machinery": ("Makina",),
        "logistics": ("Lojistik", "Nakliyat"),
        "trading": ("Dış Ticaret", "Ticaret"),
    },
}


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company's registered name, the Latin form used abroad and other known names."""

    name: str
    latin: str
    aliases: tuple[str, ...]
    stem: str


@cache
def country_name(iso2: str) -> str:
    """The country as written on an address (English)."""
    return vocab.ADDRESS_COUNTRY.get(iso2) or reference.countries()[iso2].name


def _industry(u: Uniforms, lang: str, sector: str) -> str:
    local = _LOCAL_INDUSTRY.get(lang, {}).get(sector)
    if local and u.chance(0.6):
        return u.pick(local)
    return u.pick(vocab.INDUSTRY_WORDS[sector])


def company_name(u: Uniforms, country: str, sector: str, *, script_p: float = 0.35) -> CompanyName:
    """A plausible company name for ``country`` and ``sector``.

    Chinese companies get a hanzi registered name (pinyin form as alias) with probability ``script_p``,
    Russian and Belarusian ones a Cyrillic ``ООО «...»`` name (transliteration as alias).
    """
    lang = vocab.LANGUAGE.get(country, "en")
    legal = u.pick(vocab.LEGAL_FORMS.get(country, ("Ltd.",)))
    if country == "CN" and u.chance(script_p):
        city_h, city_p = u.pick(vocab.CN_CITIES)
        stem_h, stem_p = u.pick(vocab.CN_STEMS)
        ind_h, ind_p = u.pick(vocab.CN_INDUSTRY)
        name = f"{city_h}{stem_h}{ind_h}有限公司"
        latin = f"{city_p} {stem_p} {ind_p} Co., Ltd."
        return CompanyName(name, latin, (latin,), stem_p)
    if country in ("RU", "BY") and u.chance(script_p):
        stem_c, stem_l = u.pick(vocab.RU_STEMS)
        ind_c, ind_l = u.pick(vocab.RU_INDUSTRY)
        form_c, form_l = u.pick((("ООО", "OOO"), ("АО", "AO"), ("ООО", "LLC"), ("ЗАО", "CJSC")))
        name = f"{form_c} «{stem_c}{ind_c.lower()}»"
        latin = f'{form_l} "{stem_l}{ind_l.lower()}"'
        return CompanyName(name, latin, (latin, f"{stem_l}{ind_l.lower()} {form_l}"), stem_l)
    stems = vocab.STEMS.get(lang, vocab.STEMS["en"])
    stem = u.pick(stems)
    if u.chance(0.25):
        stem = (
            f"{stem} {u.pick(vocab.STEMS['en'])}"
            if lang != "en"
            else f"{stem}{u.pick(('tech', 'tron', 'ex'))}"
        )
    industry = _industry(u, lang, sector)
    if country == "HK" and u.chance(0.3):
        name = f"{stem} {industry} (HK) {legal}"
    elif country == "CN":
        city = u.pick(vocab.CN_CITIES)[1]
        name = f"{city} {stem} {industry} {legal}"
    elif country == "ID" and legal == "PT":
        name = f"PT {stem} {industry}"
    elif lang == "ru" and u.chance(0.4):
        name = f'{legal} "{stem}{u.pick(("Tech", "Trade", "Prom", "Snab", "Invest", "Service"))}"'
    else:
        name = f"{stem} {industry} {legal}"
    return CompanyName(name, name, (), stem)


def person_name(u: Uniforms, country: str) -> str:
    """A person's name in Latin script, family name last (first for East Asian styles)."""
    lang = vocab.LANGUAGE.get(country, "en")
    first = u.pick(vocab.FIRST_NAMES.get(lang, vocab.FIRST_NAMES["en"]))
    last = u.pick(vocab.LAST_NAMES.get(lang, vocab.LAST_NAMES["en"]))
    if lang in ("zh", "kr"):
        return f"{last} {first}"
    if lang == "ru" and u.chance(0.3):
        return f"{last} {first} {u.pick(('Sergeevich', 'Petrovich', 'Ivanovich', 'Nikolaevich'))}"
    return f"{first} {last}"


def _city(u: Uniforms, country: str) -> str:
    cities = vocab.CITIES.get(country)
    return u.pick(cities) if cities else country_name(country)


def address(u: Uniforms, country: str, *, residential: bool = False) -> str:
    """A street address in the local style; ``residential`` gives a flat/apartment address."""
    lang = vocab.LANGUAGE.get(country, "en")
    street = u.pick(vocab.STREETS.get("hk" if country == "HK" else lang, vocab.STREETS["en"]))
    num = u.integer(1, 240)
    city = _city(u, country)
    cname = country_name(country)
    if residential:
        flat = u.integer(1, 180)
        if lang == "ru":
            return f"{street}, d. {num}, kv. {flat}, {city}, {cname}"
        if lang == "zh":
            block = f"Flat {u.pick('ABCDEFGH')}, {u.integer(2, 38)}/F, Block {u.integer(1, 9)}"
            return f"{block}, {street} Residence, {city}, {cname}"
        return f"Apt. {flat}, {num} {street}, {city}, {cname}"
    if lang == "de":
        return f"{street} {num}, {city}, {cname}"
    if lang == "ru":
        return f"{street}, d. {num}, str. {u.integer(1, 9)}, office {u.integer(1, 420)}, {city}, {cname}"
    if lang == "zh":
        return f"No. {num} {street}, {city}, {cname}"
    if lang == "jp":
        return f"{u.integer(1, 9)}-{u.integer(1, 30)}-{u.integer(1, 20)} {street}, {city}, {cname}"
    if lang in ("fr", "es", "it", "pt", "nl", "nordic", "ce", "tr"):
        return f"{street} {num}, {city}, {cname}"
    return f"{num} {street}, {city}, {cname}"


@cache
def _phone_shape(country: str) -> tuple[int, str]:
    kind = phonenumbers.PhoneNumberType
    example = phonenumbers.example_number_for_type(country, kind.FIXED_LINE) or phonenumbers.example_number(
        country
    )
    code = phonenumbers.country_code_for_region(country)
    national = str(example.national_number) if example is not None else "2123456789"
    return code, national


def phone(u: Uniforms, country: str) -> str:
    """An international phone number with the country's calling code (``+852 2123 4567``)."""
    code, national = _phone_shape(country)
    # Keep the leading digits of the example so the number falls in the country's own range (+7 is shared).
    keep = 2 if len(national) > 7 else 1
    digits = national[:keep] + u.digits(len(national) - keep)
    groups = (
        [digits[i : i + 4] for i in range(0, len(digits), 4)]
        if len(digits) <= 8
        else [digits[:3], digits[3:6], digits[6:]]
    )
    return f"+{code} " + " ".join(groups)


def website_domain(u: Uniforms, latin: str, country: str) -> str:
    """A web domain made from the company's name."""
    words = [w for w in latin.split() if slug(w)][:2]
    base = "".join(slug(w) for w in words) or f"co{u.digits(4)}"
    tld = vocab.TLD.get(country, "com") if u.chance(0.7) else "com"
    return f"{base[:24]}.{tld}"


def email(u: Uniforms, domain: str | None, latin: str) -> str:
    """A company e-mail at its own domain, or at a free-mail provider when ``domain`` is None."""
    if domain is not None:
        return f"{u.pick(('info', 'sales', 'contact', 'office', 'export', 'purchase'))}@{domain}"
    local = slug(latin.split()[0]) if latin.split() else "trade"
    return f"{local[:14] or 'trade'}{u.integer(1, 999)}@{u.pick(vocab.FREE_MAIL)}"


def registration_id(u: Uniforms, country: str) -> str:
    """A registration number in the country's usual shape."""
    if country == "CN":
        return (
            "91"
            + u.digits(4)
            + "MA"
            + "".join(u.pick("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
            + u.digits(2)
        )
    if country in ("RU", "BY"):
        return u.digits(13) if u.chance(0.5) else u.digits(10)
    if country == "HK":
        return u.digits(7)
    if country == "AE":
        return f"{u.pick(('DMCC', 'JAFZA', 'DED', 'SAIF'))}-{u.digits(6)}"
    if country == "US":
        return f"{u.digits(2)}-{u.digits(7)}"
    if country in ("DE", "AT"):
        return f"HRB {u.digits(6)}"
    if country == "GB":
        return u.digits(8)
    if country == "JP":
        return u.digits(13)
    if country == "TR":
        return u.digits(10)
    if country == "IN":
        return f"U{u.digits(5)}MH{u.digits(4)}PTC{u.digits(6)}"
    return u.digits(9)
