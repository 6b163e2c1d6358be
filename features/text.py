"""End-use text analysis in English, Chinese and Russian, vectorised.

Every function takes a whole column (pyarrow array/chunked array, pandas Series or a sequence of
``str | None``) and returns one numpy bool per text. Each test is one compiled RE2 pattern run by Arrow
over the column, so a million texts cost one pass, not a Python loop.

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

__all__ = [
    "VAGUE_MAX_CHARS",
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
    r"航天计划|太空计划|航天项目|交通信号|红绿灯|医学研究|医疗研究|电子显微镜|气象|农业无人机|玩具|"
    r"业余无线电|教学|"
    r"космическ[\pL\pN_]*\s+(программ|исследован)|светофор|медицинск[\pL\pN_]*\s+исследован|"
    r"электронн[\pL\pN_]*\s+микроскоп|метео|сельскохозяйственн[\pL\pN_]*\s+(дрон|беспилотник)|игрушк|"
    r"радиолюбител|учебн"
)


def _column(texts: Texts) -> Col:
    if isinstance(texts, pa.ChunkedArray):
        arr = texts.combine_chunks()
    elif isinstance(texts, pa.Array):
        arr = texts
    elif isinstance(texts, pd.Series):
        arr = pa.array(texts.astype(object).where(texts.notna(), None), type=pa.string())
    else:
        arr = pa.array(list(texts), type=pa.string())
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if not pa.types.is_string(arr.type):
        raise TypeError(f"expected a column of strings, got {arr.type}")
    return arr


def _bools(result: Col) -> npt.NDArray[np.bool_]:
    return np.asarray(result.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def mentions_weapons(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where a text declares a weapons, military, defence or WMD use (English, Chinese, Russian).

    Quality descriptors ("military-grade") and explicit negations ("not for military use") do not count.
    Null texts are False.
    """
    arr = _column(texts)
    cleaned = pc.replace_substring_regex(arr, pattern=_NOT_WEAPONS, replacement=" ")
    return _bools(pc.match_substring_regex(cleaned, pattern=_WEAPONS))


def end_use_missing(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where no end use is declared: null, empty, or fewer than two letters (one CJK word has two)."""
    arr = _column(texts)
    letters = pc.replace_substring_regex(arr, pattern=r"[\s\p{P}\p{S}\d]+", replacement="")
    return _bools(pc.less(pc.utf8_length(letters).fill_null(0), 2))


def end_use_vague(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where the end use is only a generic phrase ("general use", "for resale", "民用", ...)."""
    arr = _column(texts)
    short = pc.less_equal(pc.utf8_length(arr), VAGUE_MAX_CHARS)
    return _bools(pc.and_(short, pc.match_substring_regex(arr, pattern=_VAGUE)))


def cover_use(texts: Texts) -> npt.NDArray[np.bool_]:
    """True where the text claims a civil use known as a cover story for military electronics."""
    return _bools(pc.match_substring_regex(_column(texts), pattern=_COVER_USE))
