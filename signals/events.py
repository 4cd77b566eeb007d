"""Events: what happened in an item, to whom, and what it means for the theses.

The taxonomy (``thesiswatch/watchlists/events.toml``, format in docs/events.md) gives every
event type its patterns, the reading it carries for its subject and counterparty, its weight,
materiality and thesis evidence. ``EventReader.read`` finds the events of one item, gives each
covered company a role (subject, counterparty, passing) and a relevance 0-100, and says how the
item bears on the theses. Pure: text and linked tickers in, frozen records out.

Matching runs on folded text (``signals.entities.fold``: simplified Chinese, lower case,
ASCII), which keeps the length, so spans index the caller's text. Every phrase of the
taxonomy is indexed by its first two characters; at each position of the text only the
phrases starting there are tried, so a scan costs about one pass over the text however large
the taxonomy is.

>>> from thesiswatch.signals.watchlist import parse_watchlist
>>> wl = parse_watchlist('''
... name = "t"
... [[theses]]
... id = "compute"
... title = "AI compute"
... [[companies]]
... id = "NVDA.US"
... name = "NVIDIA"
... aliases = ["Nvidia"]
... theses = ["compute"]
... ''')
>>> tax = parse_taxonomy('''
... [vocab]
... cut = ["cut*", "lower*"]
... guidance = ["guidance", "outlook"]
... [[events]]
... id = "guidance_cut"
... group = "results"
... polarity = -1
... weight = 3
... patterns = ["@cut ... @guidance"]
... ''', origin="demo")
>>> from thesiswatch.signals.entities import Linker
>>> text = "Nvidia cuts its outlook"
>>> read = EventReader(tax, wl).read(text, len(text), Linker(wl).link(text))
>>> [(e.type, dict(e.entities), e.polarity) for e in read.events], read.relevance
([('guidance_cut', {'NVDA.US': 'subject'}, -1)], {'NVDA.US': 90})
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Literal

from thesiswatch.signals.entities import compile_phrases, fold
from thesiswatch.signals.models import Event, ThesisStance, TickerMention
from thesiswatch.signals.phrases import PhraseIndex
from thesiswatch.signals.taxonomy import (
    EventType,
    Taxonomy,
    ThesisEvidence,
    parse_taxonomy,
)
from thesiswatch.signals.watchlist import Watchlist

Role = Literal["subject", "counterparty", "passing"]
GAP_LATIN = 40
GAP_HAN = 20

_SENTENCE_END = re.compile(r"[。！？；!?;\n]|\.(?=\s)")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LIMIT_MOVES = frozenset(("limit_up", "limit_down"))  # a 10 % (or 20 %) daily limit move
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?(?:%|％|个百分点|成)")
_CLAUSE_END = re.compile(
    r"(?<=[\u3400-\u9fff%）)]),|,? (?:while|whereas) |(?<=[\u3400-\u9fff%])\s+(?=[\u3400-\u9fff])"
)  # a Chinese comma, "while", or a space between two Chinese phrases of a title
_BARE_MOVE = re.compile(
    r"(?:(?:'s|’s)? (?:shares|stock|adrs|h shares))? "
    r"(?:(?P<up>rise|rises|rose|jump|jumps|jumped|climb|climbs|climbed|gain|gains|gained|rally|"
    r"rallies|rallied|surge|surges|surged|soar|soars|soared|advance|advances|advanced|rebound|"
    r"rebounds|rebounded)|(?P<down>fall|falls|fell|drop|drops|dropped|slide|slides|slid|slump|"
    r"slumps|slumped|sink|sinks|sank|tumble|tumbles|tumbled|lag|lags|lagged|slip|slips|slipped|"
    r"dip|dips|dipped|decline|declines|declined|retreat|retreats|retreated))"
    r"(?= ?\d[\d.]*\s?%| (?:on|after|as|while|in|to|amid|despite|following|over)\b|\s*(?:[,;:.]|$))"
)
_LEAD_IN = re.compile(r"\s?[:：]")
_TURN = re.compile(r"\bbut\b|\bhowever\b|\byet\b|\bthough\b|但|惟|却|不过")
_CONJ = re.compile(r"^\s*(?:,|，|、|and|&|和|与|及|以及|跟|同)?\s*$")  # adjacent names: a list
_PASSING_BEFORE = compile_phrases([
    "rival", "rivals", "rival to", "than", "like", "such as", "unlike", "versus", "vs", "vs.",
    "powered by", "made by", "built by", "supplied by", "based on", "on par with", "alongside",
    "competitor", "competitors", "alternative to", "replace", "replacing", "compared with",
    "compared to", "outpac*", "rivaling", "rivalling", "challenger to", "rivals", "below",
    "above", "china's", "china’s", "高于", "低于", "超过", "比肩", "叫板", "平替",
    "替代", "取代", "对标", "比", "相比", "相较", "媲美", "不输", "超越", "如", "像", "采用",
    "搭载", "基于", "继", "对手", "追赶", "落后于", "behind", "trail", "trails", "trailing", "edge over",
    "lead over", "advantage over", "ahead of", "catch up with", "catch up to", "runs on", "run on",
    "available on", "compatible with", "app for", "apps for", "赶超", "领先", "落后", "不及", "逊于",
    "中国版", "版", "built at", "made at", "fabbed at", "fabricated by", "manufactured by", "produced by",
    "chases", "chasing", "catch", "配备", "配置", "选装", "标配", "including", "include", "includes",
    "among them", "包括", "包含", "built on", "supplier to", "supplies", "reliance on", "cites", "citing",
    "beats", "接近", "来自", "超越", "对标", "直追", "逼近", "追平", "overtaking", "overtakes", "overtook",
    "pitted against", "to compete with", "competes with", "competing with", "benchmarks against",
    "benchmarked against", "tested against", "compared against", "undercuts", "undercut", "despite",
    "year after", "years after",
])  # fmt: skip
_PASSING_AFTER = compile_phrases([
    "'s rival", "’s rival", "rival", "rivals", "competitor", "-made", "made", "-powered",
    "powered", "等", "之后", "的对手", "代工", "的竞争对手", "同款", "一样", "之外", "以外",
    "概念股", "概念", "产业链", "竞争加剧", "竞争激烈", "之争", " gap", "-class", " class", "级",
    "缺口", "替代品", "水平", "对手", "竞争对手", "-backed", " backed", "装置", "设备", " devices", " device",
    "同台", "用户", "-built", "-style", "'s shock", "’s shock", "式", "2nm", "3nm", "4nm", "5nm", "7nm",
    "n2", "n3", "2 nm", "3 nm", "4 nm", "2奈米", "3奈米", "4奈米", "5奈米", "2纳米", "3纳米", "4纳米", "5纳米",
    "权重",
])  # fmt: skip
_ON_STORE = re.compile(r"(?:上架|登顶|登上|下架|冲上|在|on|in|tops|topped|from)\s*$")
_VENUE = re.compile(r"(?:'s |’s )?(?:app store|应用商店|商店|平台)")
_PASSING_REACH = 14


# --------------------------------------------------------------------------- matching


def _is_han(ch: str) -> bool:
    return bool(_HAN.match(ch))


@dataclass(frozen=True, slots=True)
class _Pattern:
    type_index: int
    terms: tuple[int, ...]  # term ids


class _Cue:
    """A condition: terms joined by ' + ' (phrase, @group, $thesis, each maybe negated)."""

    def __init__(self, text: str, index: PhraseIndex, vocab: Mapping[str, tuple[str, ...]]):
        self.terms: list[tuple[bool, str, int | None]] = []
        for raw in filter(None, (x.strip() for x in text.split(" + "))):
            negated = raw.startswith("!")
            term = raw[1:].strip() if negated else raw
            if term.startswith("$"):
                self.terms.append((negated, term[1:], None))
            else:
                phrases = vocab[term[1:]] if term.startswith("@") else (term,)
                self.terms.append((negated, term, index.term(term, phrases)))

    def holds(self, hits: Mapping[int, list[tuple[int, int]]], subject_theses: set[str]) -> bool:
        """``subject_theses``: the theses of the event's subjects' baskets, plus "nosubject"
        when no covered company is its subject."""
        for negated, term, tid in self.terms:
            present = term in subject_theses if tid is None else tid in hits
            if present == negated:
                return False
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What ``EventReader.read`` found in one item."""

    events: tuple[Event, ...] = ()
    roles: Mapping[str, Role] = field(default_factory=dict)
    relevance: Mapping[str, int] = field(default_factory=dict)
    by_ticker: Mapping[str, float] = field(default_factory=dict)  # summed reading per ticker
    theses: tuple[ThesisStance, ...] = ()
    polarity: float = 0.0  # summed reading of the events no covered company is the subject of
    title_schedule: Event | None = None  # a schedule/procedure event read in the title
    hits: Mapping[int, list[tuple[int, int]]] = field(default_factory=dict)  # the phrase index's
    # hits on the item (shared with the thesis mapper when it shares the index)
    hedged: bool = False  # a rule only proposed or weighed, or an analyst's view: what the item
    # says is not yet a fact, so no thesis stance from cue words either
    settled: bool = False  # an event read as neutral on purpose (a 0.4 % move, a denial of good
    # news): the lexicon's tone does not stand in for it


@dataclass(slots=True)
class _Found:
    type_index: int
    start: int
    trigger: tuple[int, int]
    sentence: int
    negated: bool = False


class EventReader:
    """Finds events in items and gives covered companies their roles (docs/events.md)."""

    def __init__(
        self, taxonomy: Taxonomy, watchlist: Watchlist, index: PhraseIndex | None = None
    ) -> None:
        """``index``: a phrase index shared with other readers of the same text (the caller
        then builds it once every term is in); by default the reader has its own."""
        self.taxonomy = taxonomy
        self.types = taxonomy.types
        own = index is None
        self._index = PhraseIndex() if index is None else index
        vocab = taxonomy.vocab
        self._patterns: list[_Pattern] = []
        for ti, etype in enumerate(self.types):
            for pattern in etype.patterns:
                terms = []
                for term in (x.strip() for x in pattern.split(" ... ")):
                    phrases = vocab[term[1:]] if term.startswith("@") else (term,)
                    terms.append(self._index.term(term, phrases))
                self._patterns.append(_Pattern(ti, tuple(terms)))
        self._by_first: dict[int, list[_Pattern]] = {}
        for p in self._patterns:
            self._by_first.setdefault(p.terms[0], []).append(p)
        self._negator = self._index.term("<negators>", taxonomy.negators)

        def group(name: str) -> int:  # a [vocab] group the reader itself reads (docs/events.md)
            return self._index.term("@" + name, vocab.get(name, ()))

        self._small, self._hedge, self._hedge_noun = (
            group("small_move"),
            group("hedge"),
            group("hedge_noun"),
        )
        self._rumour, self._self_ref, self._not_shares = (
            group("rumour"), group("self_ref"), group("not_shares")
        )  # fmt: skip
        self._type_index = {t.id: i for i, t in enumerate(self.types)}
        self._evidence = [
            [(ev, _Cue(ev.condition, self._index, vocab)) for ev in etype.theses]
            for etype in self.types
        ]
        self._polarity_if = [
            [(_Cue(cond, self._index, vocab), value) for cond, value in etype.polarity_if]
            for etype in self.types
        ]
        if own:
            self._index.build()
        self._basket = {c.id: set(c.theses) for c in watchlist.companies}
        self._risk = {t.id for t in watchlist.theses if getattr(t, "role", "") == "risk"}

    # -- finding events ---------------------------------------------------------------

    def _find(self, folded: str, hits: Mapping[int, list[tuple[int, int]]]) -> list[_Found]:
        bounds = [m.end() for m in _SENTENCE_END.finditer(folded)]
        clauses = [m.end() for m in _CLAUSE_END.finditer(folded)]

        def sentence(pos: int) -> int:
            return bisect_right(bounds, pos)

        # (type, sentence, clause) -> first occurrence: "零跑跌超8%，小鹏跌逾6%" is two moves
        found: dict[tuple[int, int, int], _Found] = {}
        for first, spans in hits.items():
            patterns = self._by_first.get(first)
            if not patterns:
                continue
            for start, end in spans:
                for p in patterns:
                    span = self._follow(folded, p.terms, start, end, hits)
                    if span is None:
                        continue
                    s = sentence(start)
                    key = (p.type_index, s, bisect_right(clauses, span[0]))
                    known = found.get(key)
                    # the earliest trigger; for one trigger, the tightest reading (the last
                    # first term before it: "BYD deliveries rise while NIO deliveries fall")
                    if (
                        known is None
                        or span[0] < known.trigger[0]
                        or (span == known.trigger and start > known.start)
                    ):
                        found[key] = _Found(p.type_index, start, span, s)
        events = sorted(found.values(), key=lambda f: (f.trigger[0], f.type_index))
        # Schedule events own their words: "to report results on" is not a results event.
        by_sentence: dict[int, list[_Found]] = {}
        for f in events:
            by_sentence.setdefault(f.sentence, []).append(f)  # overlaps stay within a sentence
        schedule = {
            n: [f for f in group if self.types[f.type_index].group == "schedule"]
            for n, group in by_sentence.items()
        }
        kept = [
            f
            for f in events
            if self.types[f.type_index].group == "schedule"
            or not any(
                s.start < f.trigger[1] and f.start < s.trigger[1] for s in schedule[f.sentence]
            )
        ]
        by_sentence = {}
        for f in kept:
            by_sentence.setdefault(f.sentence, []).append(f)
        # An event whose words start inside another's ("curbs ... China" after "eases chip
        # curbs") is the same words read twice: the earlier (or, from one start, the wider)
        # reading wins, unless the inner one weighs more ("涨停" inside "股价涨") or says which
        # way a neutral one went ("sales fall" inside "February sales").

        def weight(f: _Found) -> float:
            return self.types[f.type_index].weight

        kept = [
            f
            for f in kept
            if not any(
                g is not f
                and (
                    (
                        g.start < f.start < g.trigger[1]
                        and weight(g) >= weight(f)
                        and (
                            self.types[g.type_index].polarity
                            or not self.types[f.type_index].polarity
                        )
                    )
                    or (g.start == f.start and f.trigger[1] < g.trigger[1])
                )
                for g in by_sentence[f.sentence]
            )
        ]
        for f in kept:
            f.negated = self._negated(folded, f.start, hits) or any(
                f.start < ns and ne <= f.trigger[0] for ns, ne in hits.get(self._negator, ())
            )  # "功能再度推迟上线", "功能仍未获准上线": a negator inside the pattern
        return kept

    def _follow(
        self,
        folded: str,
        terms: tuple[int, ...],
        start: int,
        end: int,
        hits: Mapping[int, list[tuple[int, int]]],
    ) -> tuple[int, int] | None:
        """The trigger span (the last term's) when the terms follow ``start`` in order."""
        last = (start, end)
        for tid in terms[1:]:
            nxt = None
            for s, e in hits.get(tid, ()):
                if s < last[1]:
                    continue
                gap_text = folded[last[1] : s]
                han = (
                    last[1] > 0
                    and _is_han(folded[last[1] - 1])
                    and s < len(folded)
                    and _is_han(folded[s])
                )
                if (
                    len(gap_text) > (GAP_HAN if han else GAP_LATIN)
                    or _SENTENCE_END.search(gap_text)
                    or (_HAN.search(gap_text) and ("," in gap_text or "、" in gap_text))
                    # a Chinese clause ends at a comma (folded "，"); an English one runs past it
                ):
                    break
                nxt = (s, e)
                break
            if nxt is None:
                return None
            last = nxt
        return last

    def _bare_moves(
        self, folded: str, spans: Sequence[tuple[int, int, str]], found: Sequence[_Found]
    ) -> list[_Found]:
        """Share moves told by a company name and a bare verb, as market wraps write them
        ("SMIC and Hua Hong jump on curb news while Xiaomi lags", "SMIC rose 6%"): the verb
        right after the name, then a percentage, a preposition or the end of the clause."""
        ids = self._type_index
        taken = {(f.type_index, f.trigger[0]) for f in found}
        out: list[_Found] = []
        for _s, e, _t in spans:
            m = _BARE_MOVE.match(folded, e)
            if m is None:
                continue
            kind = "shares_up" if m.group("up") else "shares_down"
            if kind not in ids:
                continue
            verb = m.span("up") if m.group("up") else m.span("down")
            if any(f.trigger[0] <= verb[0] < f.trigger[1] for f in found):
                continue  # the words are already read ("BYD sales fall")
            if (ids[kind], verb[0]) not in taken:
                out.append(_Found(ids[kind], verb[0], verb, -1))
        return out

    def _hedged(self, folded: str, f: _Found, hits: Mapping[int, list[tuple[int, int]]]) -> bool:
        """A hedge word in the event's sentence: before the trigger ("weighs", "would", "拟"), or
        a hedging noun after it ("tariff threat", "出口管制草案")."""
        for s, _e in hits.get(self._hedge, ()):
            if s < f.trigger[0] and not _SENTENCE_END.search(folded[s : f.trigger[0]]):
                return True
        for s, _e in hits.get(self._hedge_noun, ()):  # "tariff threat", "关税威胁"
            if s >= f.trigger[1] and not _SENTENCE_END.search(folded[f.trigger[1] : s]):
                return True
        return False

    def _negated(self, folded: str, start: int, hits: Mapping[int, list[tuple[int, int]]]) -> bool:
        for _s, e in hits.get(self._negator, ()):
            if e > start:
                continue
            between = folded[e:start]
            if _SENTENCE_END.search(between):
                continue
            if _HAN.search(folded[max(0, start - 1) : start] or " "):
                if start - e <= self.taxonomy.reach_chars:
                    return True
            elif len(between.split()) <= self.taxonomy.reach_words:
                return True
        return False

    # -- roles ------------------------------------------------------------------------

    def read(self, text: str, title_len: int, mentions: Sequence[TickerMention]) -> Reading:
        """Events, roles, relevance, per-ticker readings and thesis evidence of one item."""
        folded = fold(text)
        hits = self._index.hits(folded)
        found = [  # "台積電法說會：上調AI營收占比": a lead-in naming the call, then its news
            f for f in self._find(folded, hits)
            if self.types[f.type_index].group != "schedule"
            or not _LEAD_IN.match(folded, f.trigger[1])
        ]  # fmt: skip
        denied: set[int] = set()  # the polarities of what a title's denial denies
        if any(self.types[f.type_index].id == "denial" and f.start < title_len for f in found):
            # "Nvidia denies report that Rubin will slip": the denial is the news; what it
            # denies (the slip, the order cut) did not happen. Market moves still did.
            kept = [
                f for f in found
                if self.types[f.type_index].id == "denial"
                or self.types[f.type_index].group in ("market", "schedule")
            ]  # fmt: skip
            denied = {
                p
                for f in found
                if f not in kept
                for p in (self.types[f.type_index].polarity, self.types[f.type_index].counterparty)
            }
            found = kept
        spans = sorted(
            (s, e, m.ticker) for m in mentions for s, e in m.spans
        )  # every mention, in text order
        starts = [s for s, _, _ in spans]
        found += self._bare_moves(folded, spans, found)
        # A company is passing when its first mention is (a later "搭载自研神玑芯片" does not
        # make NIO a bystander in its own rollout).
        first: dict[str, tuple[int, int]] = {}
        for s, e, t in spans:
            first.setdefault(t, (s, e))
        passing = {t for t, (s, e) in first.items() if self._is_passing(folded, s, e, spans)}
        # ... unless the title names it again, plainly: "OpenAI採用超微GPU 超微股價飆漲24%"
        for (_s1, e1, t1), (s2, _e2, t2) in pairwise(spans):
            if t2 in passing and first[t1][0] == _s1 and _CONJ.match(folded[e1:s2]):
                passing.add(t1)  # "與小鵬、理想同台競爭": the list shares the comparison
        passing -= {
            t for s, e, t in spans
            if t in passing and first[t][1] + 2 < s < title_len
            and not self._is_passing(folded, s, e, spans)
        }  # fmt: skip
        for (_s1, e1, t1), (s2, _e2, t2) in pairwise(spans):
            if t1 in passing and first[t2][0] == s2 and _CONJ.match(folded[e1:s2]):
                passing.add(t2)  # "megacaps including Nvidia and Apple": both in passing
        roles: dict[str, Role] = {}
        readings: dict[str, float] = {}
        events: list[Event] = []
        stance_score: dict[str, dict[str, float]] = {}
        stance_evidence: dict[tuple[str, str], list[str]] = {}
        no_subject_polarity = 0.0
        settled = False
        headline = next((t for s, _e, t in spans if s < title_len and t not in passing), None)
        turn_at = _TURN.search(folded, 0, title_len)
        turn = turn_at.end() if turn_at else None  # where a title's "but" clause starts
        title_move = False  # a share move of 3 % or more (or a limit move) in the title
        pending: list[tuple[_Found, EventType, list[str], int, str]] = []
        schedule: list[tuple[Event, _Found]] = []
        bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(folded)] + [len(folded) + 1]
        for f in found:
            etype = self.types[f.type_index]
            if f.negated and etype.negated == "void":
                continue
            if etype.group == "market" and any(
                f.start - 12 <= e <= f.start and not _CLAUSE_END.search(folded[e : f.start])
                for _s, e in hits.get(self._not_shares, ())
            ):
                continue  # "as the Taiwan dollar jumps", "恒指跌1%": not a company's shares
            sign = -1 if f.negated and etype.negated == "flip" else 1
            lo = bounds[bisect_right(bounds, f.start) - 1]
            hi = bounds[bisect_right(bounds, f.trigger[0])]
            in_sentence = [
                (s, e, t)
                for s, e, t in spans[bisect_left(starts, lo) : bisect_left(starts, hi)]
                if t not in passing
            ]
            subjects, counterparties = self._assign(folded, etype, f, in_sentence, lo)
            if (
                not subjects
                and not counterparties
                and headline
                and (
                    etype.group == "market"
                    or any(lo <= s < hi for s, _e in hits.get(self._self_ref, ()))
                )
            ):
                # "AMD beats; shares dip 4%", "公司公告...签订供货协议": whose shares, which
                # company goes unsaid: the headline's
                subjects = [headline]
            entities: dict[str, str] = {}
            for t in subjects:
                entities.setdefault(t, "subject")
            for t in counterparties:
                entities.setdefault(t, "counterparty")
            polarity = etype.polarity * sign
            if etype.id == "denial" and 1 in denied and -1 not in denied:
                polarity, settled = 0, True  # denying good news ("no R2 this month")
            if self._polarity_if[f.type_index]:
                held = set().union(*(self._basket.get(t, set()) for t in subjects))
                if not subjects:
                    held.add("nosubject")
                for cue, value in self._polarity_if[f.type_index]:
                    if cue.holds(hits, held):
                        polarity = value * sign  # "DeepSeek halves API prices" is good for it
                        break
            magnitude = _magnitude(folded, lo, hi, f.trigger[0])
            weight = etype.weight
            if (
                etype.group == "market"
                and etype.id not in _LIMIT_MOVES
                and (
                    (magnitude < 1)
                    if magnitude is not None
                    else any(lo <= s < hi for s, _e in hits.get(self._small, ()))
                )
            ):
                polarity, settled = 0, True  # "edges up 0.4 %" is no news for the holder
            if etype.group == "market" and (
                (magnitude is not None and magnitude >= 3) or etype.id in _LIMIT_MOVES
            ):
                weight *= 10  # the day's reading: a 6 % fall outweighs the beat it followed
                title_move = title_move or (f.start < title_len and polarity != 0)
            if turn is not None and turn <= f.trigger[0] < title_len:
                weight *= 3  # "profit falls, but shares rise": what follows "but" is the news
            for t, role in entities.items():
                value = polarity if role == "subject" else etype.counterparty * sign
                readings[t] = readings.get(t, 0.0) + value * weight
                if roles.get(t) != "subject":
                    roles[t] = role  # type: ignore[assignment]
            if not subjects:
                no_subject_polarity += polarity * weight
            evidence_text = text[f.start : f.trigger[1]]
            events.append(
                Event(
                    type=etype.id,
                    entities=tuple(entities.items()),
                    polarity=polarity,
                    evidence=(evidence_text,),
                    weight=etype.weight,
                    materiality=etype.materiality,
                    negated=f.negated,
                    magnitude=magnitude,
                )
            )
            if etype.materiality == "schedule":
                schedule.append((events[-1], f))
            if not (f.negated and etype.negated != "ignore"):
                pending.append((f, etype, subjects, polarity, evidence_text))
        title_types = {self.types[f.type_index].id for f in found if f.start < title_len}
        # an opinion piece, a forum thread, an unconfirmed report: no event of it happened
        hearsay = "commentary" in title_types or any(
            s < title_len for s, _e in hits.get(self._rumour, ())
        )
        view = (  # what the item reports is a view, not a fact: no thesis evidence
            hearsay
            or "rating_change" in title_types  # an analyst's view
            or "denial" in title_types  # what is denied carries no stance
            or (  # "Washington weighs tighter limits": a policy only talked about
                "policy_statement" in title_types
                and any(s < title_len for s, _e in hits.get(self._hedge, ()))
            )
            or any(  # "美国酝酿加严出口管制，国产替代有望提速": all of it hangs on the proposal
                f.start < title_len
                and self.types[f.type_index].group == "regulation"
                and self._hedged(folded, f, hits)
                for f in found
            )
        )
        hedged = view
        if hearsay:  # nothing to alert on: its events are reported, not happened
            events = [
                replace(e, materiality="minor")
                if e.materiality == "material"
                and self.types[self._type_index[e.type]].group != "market"
                else e
                for e in events
            ]  # (a share move did happen)
        for f, etype, subjects, polarity, evidence_text in pending:
            if view:
                break
            net = sum(readings.get(t, 0.0) for t in subjects)
            if polarity and net and (polarity > 0) != (net > 0):
                continue  # "beats, but guides lower": the weaker event carries no evidence
            if etype.group == "regulation" and self._hedged(folded, f, hits):
                hedged = True  # no cue words for the theses either
                continue  # "Washington weighs tighter limits": a proposal is not yet a rule
            subject_theses = set().union(*(self._basket.get(t, set()) for t in subjects))
            if not subjects:
                subject_theses.add("nosubject")
            for ev, cue in self._evidence[f.type_index]:
                if ev.thesis in self._risk and ev.stance != "support":
                    continue
                if cue.holds(hits, subject_theses):
                    side = stance_score.setdefault(ev.thesis, {"support": 0.0, "challenge": 0.0})
                    side[ev.stance] += max(etype.weight, 1.0)
                    stance_evidence.setdefault((ev.thesis, ev.stance), []).append(
                        f"{etype.id}: {evidence_text}"
                    )
        events = _merged(events)
        # the heaviest first; what the title says counts half as much again
        events.sort(key=lambda e: -e.weight * (1.5 if e.type in title_types else 1.0))
        relevance = self._relevance(spans, roles, passing, title_len)
        if not events:  # "none of the above": read, and nothing in the taxonomy happened
            events.append(Event(type="other", materiality="minor", weight=0.0))
        theses = tuple(
            ThesisStance(
                thesis=thesis,
                stance=max(sides, key=lambda k: sides[k]),  # type: ignore[arg-type]
                strength=round(abs(sides["support"] - sides["challenge"])
                               / (sides["support"] + sides["challenge"]), 3),
                evidence=tuple(
                    dict.fromkeys(stance_evidence[(thesis, max(sides, key=lambda k: sides[k]))])
                ),
            )
            for thesis, sides in stance_score.items()
            if sides["support"] != sides["challenge"]
        )  # fmt: skip
        if events and not any(e.polarity for e in events):
            # "Nvidia strikes $20 billion deal for Groq": a deal's tone is not its words'
            settled = settled or not self.types[self._type_index[events[0].type]].lexicon
        title_type = next((e.type for e, f in schedule if f.start < title_len), None)
        if title_move:  # "Nvidia gains 3% ahead of GTC": the move is the news, not the date
            title_type = None
            move = next((e for e in events if e.type in title_types and e.polarity
                         and self.types[self._type_index[e.type]].group == "market"),
                        None)  # fmt: skip
            if move is not None:
                events.remove(move)
                events.insert(0, move)
        title_schedule = next((e for e in events if e.type == title_type), None)
        if title_schedule is not None:  # a title announcing a date or a procedure is that
            events.remove(title_schedule)
            events.insert(0, title_schedule)
        return Reading(
            title_schedule=title_schedule,
            hits=hits,
            events=tuple(events),
            roles=roles,
            relevance=relevance,
            by_ticker=readings,
            theses=theses,
            polarity=no_subject_polarity,
            settled=settled,
            hedged=hedged,
        )

    def _assign(
        self,
        folded: str,
        etype: EventType,
        f: _Found,
        mentions: Sequence[tuple[int, int, str]],
        lo: int = 0,
    ) -> tuple[list[str], list[str]]:
        if etype.subject == "first" and mentions:
            # The sentence's first actor acts ("Xiaomi wires DeepSeek R1 into XiaoAi", "OPPO
            # to bake DeepSeek into ColorOS"): ours named later are what it acts with.
            if _named_before(folded[lo : mentions[0][0]]):
                return [], list(dict.fromkeys(t for _, _, t in mentions))
            chosen, second = [mentions[0]], list(mentions[1:])
            for m in second:
                if _CONJ.match(folded[chosen[-1][1] : m[0]]):
                    chosen.append(m)
                else:
                    break
            subjects = list(dict.fromkeys(t for _, _, t in chosen))
            return subjects, list(dict.fromkeys(t for _, _, t in second if t not in subjects))
        before = [m for m in mentions if m[1] <= f.start]
        after = [m for m in mentions if m[0] >= f.start]
        first, second = (
            (before[::-1], after) if etype.subject == "before" else (after, before[::-1])
        )
        if not first:
            if etype.subject == "before" and _named_before(folded[lo : f.start]):
                # "联想AI PC接入DeepSeek": someone we do not cover acts; ours is the object
                return [], list(dict.fromkeys(t for _, _, t in second))
            first, second = second, []
        if not first:
            return [], []
        chosen = [first[0]]
        for m in first[1:]:  # "X and Y cut prices": both are subjects
            a, b = sorted((chosen[-1], m))
            if _CONJ.match(folded[a[1] : b[0]]):
                chosen.append(m)
            else:
                break
        subjects = list(dict.fromkeys(t for _, _, t in chosen))
        counterparties = [t for _, _, t in second if t not in subjects]
        return subjects, list(dict.fromkeys(counterparties))

    @staticmethod
    def _is_passing(
        folded: str, start: int, end: int, spans: Sequence[tuple[int, int, str]] = ()
    ) -> bool:
        after = folded[end : end + _PASSING_REACH].lstrip(" -")
        if _VENUE.match(after):
            # "DeepSeek tops Apple's App Store", "某银行App上架苹果应用商店": a venue, unless
            # the store's owner leads the sentence.
            return any(s < start for s, _, _ in spans) or (
                _ON_STORE.search(folded[:start][-8:]) is not None
                and _named_before(folded[:start][-30:])
            )
        lo = max(0, start - _PASSING_REACH)
        before = folded[lo:start]
        for m in _PASSING_BEFORE.finditer(before) if _PASSING_BEFORE else ():
            tail = before[m.end() :]
            if len(tail.split()) <= 1 and len(tail) <= 4:
                return True
        return _PASSING_AFTER is not None and _PASSING_AFTER.match(after) is not None

    @staticmethod
    def _relevance(
        spans: Sequence[tuple[int, int, str]],
        roles: Mapping[str, Role],
        passing: set[str],
        title_len: int,
    ) -> dict[str, int]:
        out: dict[str, int] = {}
        in_title = {t for s, _, t in spans if s < title_len}
        title_order = [t for s, _, t in spans if s < title_len]
        any_subject = any(r == "subject" for r in roles.values())
        for _, _, t in spans:
            if t in out:
                continue
            role = roles.get(t)
            if role == "subject":
                out[t] = 90 if t in in_title else 80 if not in_title else 45  # aside to the title's
            elif role == "counterparty":
                out[t] = 65 if t in in_title or not any_subject else 45  # summary-only: aside
            elif t in passing:
                out[t] = 30
            elif t in in_title:
                first = title_order and title_order[0] == t
                out[t] = 85 if first and not any_subject else 55 if not any_subject else 45
            else:
                out[t] = 40  # named only in the summary, in no event: background
        return out


_ACTOR = re.compile(r"[a-z][a-z0-9&'’.-]{2,}|[\u3400-\u9fff]{2,}")
_NOT_ACTOR = frozenset(("report", "reports", "reportedly", "sources", "the", "breaking", "update"))


def _named_before(text: str) -> bool:
    """Whether a sentence names someone before its trigger ("Lenovo AI PCs integrate ...",
    "联想AI PC接入..."), so a covered company after the trigger is not its subject."""
    text = re.sub(r"^.{0,6}[:：]", "", text.strip())  # "报道：", "Update:" lead-ins
    return any(m.group() not in _NOT_ACTOR for m in _ACTOR.finditer(text))


def _merged(events: Sequence[Event]) -> list[Event]:
    """One event per type: a title and a summary telling the same event are one event, with
    the roles of both (a subject stays a subject) and both readings' words."""
    by_type: dict[str, Event] = {}
    for event in events:
        known = by_type.get(event.type)
        if known is None:
            by_type[event.type] = event
            continue
        roles = dict(known.entities)
        for ticker, role in event.entities:
            if roles.get(ticker) != "subject":
                roles[ticker] = role
        evidence = known.evidence + tuple(e for e in event.evidence if e not in known.evidence)
        by_type[event.type] = replace(
            known,
            entities=tuple(roles.items()),
            evidence=evidence[:3],
            magnitude=known.magnitude if known.magnitude is not None else event.magnitude,
        )
    return list(by_type.values())


def _magnitude(folded: str, lo: int, hi: int, at: int) -> float | None:
    """The first percentage from ``at`` (the trigger) to the sentence end, else from its start."""
    m = _PERCENT.search(folded, at, hi) or _PERCENT.search(folded, lo, hi)
    if m is None:
        return None
    value = float(m.group(1))
    return value * 10 if m.group(0).endswith("成") else value


__all__ = [
    "EventReader",
    "EventType",
    "Reading",
    "Taxonomy",
    "ThesisEvidence",
    "parse_taxonomy",
]
