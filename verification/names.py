"""Comparing a declared name with the name read from a document.

Chinese names are compared after Unicode compatibility normalisation (full-width
and half-width forms fold together) with spaces removed and the several
interpunct characters used in minority and foreign names (``·``, ``•``, ``・``)
made one. A Chinese name is held against a passport's Latin name through its
pinyin, with every reading of a polyphonic character considered (曾 is Zeng or
Ceng, 单 is Shan or Dan); ü may be written U, V or YU.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

_DOTS = re.compile(r"[·•・‧∙⋅.．。]")
_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MAX_READINGS = 512


def normalize(name: str) -> str:
    """Width-folded (NFKC), spaces removed, one interpunct, Latin letters upper-cased."""
    value = unicodedata.normalize("NFKC", name or "")
    value = _DOTS.sub("·", value)
    value = _SPACES.sub("", value)
    return value.upper()


def same_name(declared: str, read: str) -> bool:
    """Whether two written names are the same after normalisation."""
    return bool(normalize(declared)) and normalize(declared) == normalize(read)


def has_han(text: str) -> bool:
    return bool(_HAN.search(text or ""))


def latin_key(name: str) -> str:
    """Letters only, upper case, diacritics removed: ``Zhāng San-Feng`` → ``ZHANGSANFENG``."""
    value = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name or ""))
    return re.sub(r"[^A-Z]", "", value.upper())


@lru_cache(maxsize=4096)
def _readings(char: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore", v_to_u=True)
    out: set[str] = set()
    for reading in (found[0] if found else []):
        base = reading.upper()
        if "Ü" in base:
            out.update({base.replace("Ü", "U"), base.replace("Ü", "V"), base.replace("Ü", "YU")})
        else:
            out.add(base)
    if not out and not has_han(char):
        out.add(latin_key(char))
    return tuple(sorted(out))


def pinyin_readings(text: str) -> set[str]:
    """Every way to spell ``text`` in toneless pinyin, syllables run together, upper case."""
    chars = [c for c in normalize(text) if c != "·"]
    options = [_readings(c) for c in chars]
    if not options or any(not o for o in options):
        return set()
    out: set[str] = set()
    for combo in itertools.product(*options):
        out.add("".join(combo))
        if len(out) >= _MAX_READINGS:
            break
    return out


def matches_latin(declared: str, surname: str, given_names: str) -> bool:
    """Whether a declared name (Chinese characters or Latin letters) is the document's Latin name.

    For Chinese characters: some split of the declared name into surname (one or two
    characters) and given name has pinyin readings equal to the document's surname and given
    names. For Latin: the same letters, surname first or last.
    """
    sur, given = latin_key(surname), latin_key(given_names)
    if not sur:
        return False
    if has_han(declared):
        chars = [c for c in normalize(declared) if c != "·"]
        for split in (1, 2):
            if split > len(chars) or (split == len(chars) and given):
                continue
            if sur in pinyin_readings("".join(chars[:split])) and (
                    given in pinyin_readings("".join(chars[split:])) if chars[split:] else not given):
                return True
        # Some documents print the whole name as the surname.
        return not given and sur in pinyin_readings("".join(chars))
    key = latin_key(declared)
    return bool(key) and key in {sur + given, given + sur}
