"""End-use text analysis in English, Chinese and Russian, vectorised.

Every function takes a whole column (pyarrow array/chunked array, pandas Series or a sequence of
``str | None``) and returns one numpy bool per text. Each test is one compiled pattern run over the
column's distinct values (see :mod:`features.regex`: Python ``re`` for a few, Arrow RE2 for many).

Decisions (tested in tests/features/test_text.py):

* Quality descriptors are not military uses: "military-grade", "mil-spec", "military-style" are removed
  before matching, so "military-grade packaging tape for civilian warehouses" is not a weapons mention.
* Explicit negations ("not for military use", "non-military", "не для военных целей", "非军事用途") are
  removed too: the hard rule that holds a shipment is for declared weapons uses, and a negation is the
  opposite. Someone lying about the use is caught by the model, not by this rule.
* "Vague" means a short text (at most :data:`VAGUE_MAX_CHARS` characters) that is nothing but a generic
  phrase ("general use", "for resale", "research", "民用", "для перепродажи"); a long, specific text that
  happens to contain "research" is not vague.
* "Cover use" phrases are civil uses known from enforcement cases as cover stories for military
  electronics ("space programme", "traffic lights", "medical research"). They are only suspicious with
  CHPL Tier 1-2 items; that combination is made in :mod:`features.red_flags` / the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from features.arrow import Col, pc
from features.regex import Pattern, strings

__all__ = [
    "COVER_USE",
    "MISSING",
    "VAGUE",
    "VAGUE_MAX_CHARS",
    "WEAPONS",
    "Texts",
    "cover_use",
    "end_use_missing",
    "end_use_vague",
    "mentions_weapons",
]

Texts: TypeAlias = "Col | pd.Series[Any] | Sequence[str | None]"

VAGUE_MAX_CHARS = 48

# Phrases removed before looking for weapons words: quality descriptors and explicit negations.
_NOT_WEAPONS = (
    r"(?i)"
    r"military[\s-]*(grade|style|spec(ification)?s?|standard|green)|mil[\s-]*spec|"
    r"non[\s-]*military|not\s+(for|intended\s+for|to\s+be\s+used\s+for|used\s+for)\s+(any\s+)?"
    r"(military|weapons?|defen[cs]e)[\pL\pN_]*|no\s+military|"
    r"ракетк[\pL\pN_]*|не\s+(для|в)\s+военн[\pL\pN_]*|невоенн[\pL\pN_]*|"
    r"非军事|非军用|不用于军事|不用于军用|军绿"
)

_WEAPONS = (
    r"(?i)"
    # English
    r"militar|weapon|armament|firearm|small\s+arms|defen[cs]e|missile|rocket|munition|ammunition|"
    r"warhead|\bwmd\b|mass\s+destruction|nuclear\s+(weapon|warhead|bomb|device)|"
    r"chemical\s+(weapon|warfare|agent)|biological\s+(weapon|warfare|agent)|bio-?weapon|nerve\s+agent|"
    r"\barmy\b|\bnavy\b|air\s+force|armed\s+forces|battlefield|combat|artillery|torpedo|"
    r"precision[\s-]*guided|guided\s+(bomb|munition|weapon)|fighter\s+(jet|aircraft)|kamikaze|"
    r"loitering|\buav\b|\bucav\b|drones?\s+for\s+(the\s+)?(army|troops|front)|"
    # Chinese
    r"军事|军用|军工|军队|军方|部队|空军|海军|陆军|解放军|武器|导弹|国防|弹药|核武|火箭|战斗机|枪支|"
    r"炮弹|弹头|化学武器|生物武器|无人机.{0,4}军|"
    # Russian
    r"военн|оруж|ракет|боеприпас|оборон|арми(я|и|ей|ю)([^\pL]|$)|армейск|вооруж|снаряд|бомб|минобороны|(^|[^\pL])впк([^\pL]|$)|"
    r"беспилотник[\pL\pN_]*\s+для\s+(армии|фронта|всу)"
)

_VAGUE = (
    r"(?i)^[^\pL\pN]*("
    r"(for\s+)?(general|various|misc[\pL\pN_]*|multiple|other|several)(\s+(use|uses|purposes?|applications?|"
    r"industrial\s+use|industry))?|"
    r"(for\s+)?(re-?sale|resell[\pL\pN_]*|stock(ing)?|trading|distribution|further\s+distribution)"
    r"(\s+(purposes?|in\s+[\pL\pN_]+))?|"
    r"(for\s+)?(civil(ian)?|commercial|industrial|own|internal|end|normal|business|private)\s+"
    r"(use|uses|purposes?|needs|applications?)|"
    r"(for\s+)?research(\s+(purposes?|use|and\s+development))?|r\s*&\s*d|"
    r"n/?a|none|unknown|not\s+known|tbd|tbc|to\s+be\s+(advised|confirmed|determined)|see\s+attached|"
    r"一般用途|通用|民用|转售|库存|贸易|研究|科研|科研用途|自用|其他|不详|"
    r"общего\s+(назначения|применения)|гражданск[\pL\pN_]*(\s+(цел|назначени|применени|нужд)[\pL]*)?|"
    r"для\s+перепродажи|перепродажа|для\s+исследований|исследования|научн[\pL\pN_]*\s+цел[\pL\pN_]*|"
    r"для\s+собственных\s+нужд|прочее|не\s+известно|неизвестно"
    r")[^\pL\pN]*$"
)

_COVER_USE = (
    r"(?i)"
    r"space\s+(program|programme|research|exploration|station)|satellite\s+hobby|"
    r"traffic\s+(lights?|signals?|control\s+lights?)|medical\s+research|electron\s+microscop|"
    r"weather\s+(stations?|balloons?|research|monitoring)|agricultur[\pL\pN_]*\s+(drones?|research)|"
    r"\btoys?\b|hobby|model\s+aircraft|amateur\s+radio|educational\s+(kits?|purposes?)|"
    r"household\s+appliances?|oil\s+and\s+gas\s+exploration|"
    r"航天计划|太空计划|航天项目|交通信号|红绿灯|医学研究|医疗研究|电子显微镜|气象|农业无人机|玩具|"
    r"业余无线电|教学|家用电器|石油勘探|"
    r"космическ[\pL\pN_]*\s+(программ|исследован)|светофор|медицинск[\pL\pN_]*\s+исследован|"
    r"электронн[\pL\pN_]*\s+микроскоп|метео|сельскохозяйственн[\pL\pN_]*\s+(дрон|беспилотник)|игрушк|"
    r"радиолюбител|учебн|бытов[\pL]*\s+техник|нефтегаз"
)


_MISSING = (
    # At most one character that is not whitespace, an ASCII digit or ASCII punctuation.
    r"^[ \t\n\r\f!-@\[-`{-~]*([^ \t\n\r\f!-@\[-`{-~][ \t\n\r\f!-@\[-`{-~]*)?$"
)

WEAPONS = Pattern(_WEAPONS, strip=_NOT_WEAPONS)
VAGUE = Pattern(_VAGUE)
COVER_USE = Pattern(_COVER_USE)
MISSING = Pattern(_MISSING)


def _column(texts: Texts) -> Col:
    if isinstance(texts, pa.ChunkedArray | pa.Array):
        return strings(texts)
    if isinstance(texts, pd.Series):
        return strings(pa.array(texts.astype(object).where(texts.notna(), None), type=pa.string()))
    return strings(pa.array(list(texts), type=pa.string()))


def mentions_weapons(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where a text declares a weapons, military, defence or WMD use (English, Chinese, Russian).

    Quality descriptors ("military-grade") and explicit negations ("not for military use") do not count.
    Null texts are False.
    """
    return WEAPONS.search(_column(texts))


def end_use_missing(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where no end use is declared: null, empty, or at most one letter (one CJK word has two)."""
    return MISSING.search(_column(texts))


def end_use_vague(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where the end use is only a generic phrase ("general use", "for resale", "民用", ...)."""
    arr = _column(texts)
    short = np.asarray(
        pc.less_equal(pc.utf8_length(arr), VAGUE_MAX_CHARS).fill_null(False).to_numpy(zero_copy_only=False),
        dtype=np.bool_,
    )
    return short & VAGUE.search(arr)


def cover_use(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where the text claims a civil use known as a cover story for military electronics."""
    return COVER_USE.search(_column(texts))
