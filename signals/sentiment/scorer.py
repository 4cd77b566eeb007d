"""``LexiconScorer`` ("tw-lex"): our finance lexicons plus rules, Chinese and English.

Chinese text is folded to simplified script, scanned for terms of ``sentiment_zh.tsv``, and
any run of English words inside it (names, "beats estimates") is read with the English
lexicon too. English text is read with ``sentiment_en.tsv``. The headline counts fully, the
summary at ``SUMMARY_WEIGHT``; the sum is squashed into [-1, 1] and labelled with a neutral
band.

snownlp's Bayes classifier (trained on product reviews) is an optional weak signal,
``use_bayes=True``, consulted for Chinese text in which the lexicon found nothing. It is off
by default: it lowered macro-F1 on every Chinese dev set (it pushes neutral text to pos/neg)
and costs the ~400 MB snownlp import (see docs/sentiment.md). With it off, this module never
imports snownlp.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from typing import Any

from thesiswatch.signals.lang import detect_lang, to_simplified
from thesiswatch.signals.models import Sentiment
from thesiswatch.signals.sentiment.base import NEUTRAL_BAND, label_for
from thesiswatch.signals.sentiment.lexicon import Lexicon, load_lexicon
from thesiswatch.signals.sentiment.rules import Gaps, merge_evidence, squash, weigh
from thesiswatch.signals.sentiment.tokenize import en_terms, zh_terms

RULES_VERSION = "2"
SUMMARY_WEIGHT = 0.5
ALPHA = {"zh": 4.0, "en": 4.0}
BAYES_WEIGHT = 0.5  # consulted only when the lexicon found nothing

ZH_GAPS = Gaps(
    intensifier=1,
    negation=3,
    inversion_before=12,
    inversion_after=3,
    number=4,
    decay=1.5,
    lead_chars=30.0,
)
EN_GAPS = Gaps(
    intensifier=1, negation=3, inversion_before=4, inversion_after=3, number=3, event_words=14
)
EN_RUN_GAPS = replace(EN_GAPS, event_words=0)  # English inside Chinese is never the headline
# English words inside a Chinese text: two or more, so a lone name ("DeepSeek") is skipped
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'\-]*(?:[ ,]+[A-Za-z][A-Za-z'\-]*)+")


class LexiconScorer:
    """The built-in scorer. Thread-safe; construction reads the two small word lists.

    >>> LexiconScorer().score("亏损同比收窄").label
    'pos'
    """

    name = "tw-lex"

    def __init__(self, *, use_bayes: bool = False, band: float = NEUTRAL_BAND) -> None:
        self.zh: Lexicon = load_lexicon("zh")
        self.en: Lexicon = load_lexicon("en")
        self.use_bayes = use_bayes
        self.band = band
        suffix = "+bayes" if use_bayes else ""
        self.version: str = f"{RULES_VERSION}.{self.zh.digest[:6]}{self.en.digest[:6]}{suffix}"
        self._bayes: Any = None
        self._bayes_lock = threading.Lock()

    def score(self, title: str, summary: str = "", *, lang: str | None = None) -> Sentiment:
        title = (title or "").strip()
        summary = (summary or "").strip()
        if not title and not summary:
            return Sentiment(label="neu", score=0.0, scorer=self.name, version=self.version)
        if lang is None:
            lang = detect_lang(title or summary)
        lang = "zh" if lang.lower().startswith("zh") else "en"
        t_raw, t_ev = self._raw(title, lang)
        s_raw, s_ev = self._raw(summary, lang) if summary else (0.0, [])
        total = t_raw + SUMMARY_WEIGHT * s_raw
        if self.use_bayes and lang == "zh" and not (t_ev or s_ev):
            total += BAYES_WEIGHT * self._bayes_signal(title or summary)
        value = squash(total, ALPHA[lang])
        return Sentiment(
            label=label_for(value, self.band),
            score=value,
            evidence=merge_evidence(t_ev, s_ev),
            scorer=self.name,
            version=self.version,
        )

    def _raw(self, text: str, lang: str) -> tuple[float, list[tuple[float, str]]]:
        if not text:
            return 0.0, []
        if lang == "en":
            return weigh(en_terms(text, self.en), text, EN_GAPS)
        text = to_simplified(text)
        total, evidence = weigh(zh_terms(text, self.zh), text, ZH_GAPS)
        for m in _LATIN_RUN.finditer(text):
            run = m.group()
            run_total, run_ev = weigh(en_terms(run, self.en), run, EN_RUN_GAPS)
            total += run_total
            evidence += run_ev
        return total, evidence

    def _bayes_signal(self, text: str) -> float:
        """snownlp's review-trained Bayes probability, centred: a value in [-1, 1]."""
        if self._bayes is None:
            with self._bayes_lock:
                if self._bayes is None:
                    from snownlp import sentiment  # lazy: ~2.5 s and ~400 MB on first use

                    self._bayes = sentiment
        probability: float = self._bayes.classify(to_simplified(text))
        return 2.0 * probability - 1.0
