"""Finance sentiment of news items, Chinese and English.

The public surface is small on purpose:

- ``Scorer``: the protocol every scorer follows (``name``, ``version``, ``score(...)``).
- ``default_scorer()``: the built-in lexicon-and-rules scorer ("tw-lex"), shared and cheap
  to call (the first call reads the two word lists, ~10 ms); it never imports snownlp, only
  the optional Bayes signal does (``LexiconScorer(use_bayes=True)``).
- ``load_scorer(spec)``: a ``"module:factory"`` plug-in hook, so a user can score with their
  own model (say a local transformer) without it becoming a dependency of ours.

>>> s = default_scorer().score("英伟达股价大跌17%")
>>> s.label, s.evidence
('neg', ('大跌17%',))
>>> default_scorer().score("Nvidia beats estimates, raises guidance").label
'pos'
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from thesiswatch.errors import ConfigError
from thesiswatch.signals.sentiment.base import Scorer, label_for
from thesiswatch.signals.sentiment.scorer import LexiconScorer

__all__ = ["LexiconScorer", "Scorer", "default_scorer", "label_for", "load_scorer"]


@lru_cache(maxsize=1)
def default_scorer() -> Scorer:
    """Return the shared built-in scorer (built on the first call, then reused)."""
    return LexiconScorer()


def load_scorer(spec: str) -> Scorer:
    """Build a scorer from ``"package.module:factory"`` (or the built-in one for ``"tw-lex"``).

    ``factory`` is called with no arguments and must return an object with ``name``,
    ``version`` and ``score(title, summary="", *, lang=None) -> Sentiment``. Any failure is a
    ``ConfigError`` whose message is one line naming the spec.
    """
    spec = spec.strip()
    if spec in ("", "default", LexiconScorer.name):
        return default_scorer()
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"scorer {spec!r}: expected 'module:factory', e.g. 'mypkg.sent:make'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or anything the user's module raises on import
        raise ConfigError(f"scorer {spec!r}: cannot import {module_name!r}: {exc}") from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise ConfigError(f"scorer {spec!r}: {module_name!r} has no {attr!r}") from exc
    if not callable(target):
        raise ConfigError(f"scorer {spec!r}: {attr!r} is not callable")
    try:
        scorer = target()
    except Exception as exc:
        raise ConfigError(f"scorer {spec!r}: factory failed: {exc}") from exc
    missing = [a for a in ("name", "version", "score") if not hasattr(scorer, a)]
    if missing or not callable(getattr(scorer, "score", None)):
        raise ConfigError(
            f"scorer {spec!r}: factory returned {type(scorer).__name__}, "
            f"which lacks {', '.join(missing) or 'a callable score'}"
        )
    return scorer
