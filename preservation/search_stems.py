"""Dutch words and stems for the full-text index, without a database (the catalogue's connections use
`stems_of` as the SQL function `edepot_stems`; queries and highlighting use the rest).

Words are split and folded as FTS5's unicode61 tokenizer with remove_diacritics 2 does (case and accents
folded: "cafe" finds "Café"); each word's Snowball Dutch (Porter) stem is indexed beside it where it differs,
so "vergunningen" finds "vergunning".
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib.metadata import version as package_version
from typing import Any

from preservation.record_access import fold

STEMMER_ALGORITHM = "dutch_porter"
TOKENIZER = "unicode61 remove_diacritics 2"
TOKEN = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer(STEMMER_ALGORITHM, 100_000)


def stemmer_version() -> str:
    """The stemmer's algorithm and library version (stems indexed by another version are re-derived)."""
    return f"{STEMMER_ALGORITHM} PyStemmer {package_version('PyStemmer')}"


def fold_fast(text: str) -> str:
    """`fold` with a fast path for ASCII text."""
    return text.lower() if text.isascii() else fold(text)


def words(text: str) -> list[str]:
    """The folded words of a text, split as FTS5's unicode61 tokenizer splits them."""
    return TOKEN.findall(fold_fast(text))


def stem(word: str) -> str:
    """The Dutch stem of one folded word."""
    return str(_stemmer().stemWord(word))


def stems(tokens: list[str]) -> list[str]:
    """The Dutch stem of each folded word."""
    return list(_stemmer().stemWords(tokens))


def stems_of(text: str) -> str:
    """The stems of a text's words that differ from the word itself, each once (the `stems` column)."""
    tokens = words(text)
    if not tokens:
        return ""
    seen = dict.fromkeys(s for t, s in zip(tokens, _stemmer().stemWords(tokens)) if s != t)
    return " ".join(seen)
