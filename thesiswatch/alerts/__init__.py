"""Alerts: which new items (and which trends) deserve an alert, once, with the reason.

The layer above the store. The rules are pure: ``evaluate(items, history, settings, now=...)``
takes the newly stored items (tagged and clustered), plain statistics (``History``, read from the
store through the typed ``HistorySource`` protocol by ``read_history``) and thresholds
(``RuleSettings``), and returns ``Alert`` records; nothing in the rules reads a clock, a file or
the network. Delivery is the other half: ``sinks`` (by kind: local, webhook, chat bots,
Apprise), ``dispatch`` (retries, ledger) and ``format`` (alert JSON, digests).

Modules: ``settings`` (thresholds, ``[rules]``, old names), ``severity`` (materiality and
the severity table, ``[rules.severity]``), ``keyword`` (user rules), ``history`` (inputs and
the store protocol), ``ledger`` (ids, cooldowns), ``story`` and ``trends`` (the rules),
``engine`` (``evaluate``), ``replay``.

Rules (``Alert.rule``):

``event:<type>``
    a material event (``severity.grade``: a ``material`` type of the taxonomy, not negated,
    a covered company with relevance >= 50 as subject or counterparty; a share move of 5 % or
    more whatever its type), graded by the severity table: ``critical`` for what moves a
    position, ``warning`` for the rest.
``thesis[:<type>]``
    thesis evidence: an item that challenges a thesis (``thesis_challenge``, stance strength
    at least ``thesis_min_strength``; ``warning``), or supports one strongly (strength at
    least ``thesis_support_threshold``; ``info``), read from an event or, in an item about a
    covered company, from a cue. The ``risk`` board is left to the next rule.
``risk[:<type>]``
    an item showing one of the report's risks materialising: stance ``risk: support``.
``keyword:<name>``
    a user rule (``KeywordRule``) matched the title or summary, in either language.
``spike``
    mentions of a ticker in the last ``spike_window_minutes`` far above its hourly baseline:
    at least ``spike_min_count`` and above ``median + spike_factor * max(1.4826 * MAD, 1)``
    of the trailing ``spike_baseline_hours`` hours (not before ``spike_min_baseline_hours``
    hours of history exist, so a fresh database does not spike on its first backfill).
``drift``
    a thesis's net evidence (supporting minus challenging items) over the trailing
    ``drift_window_days`` days flips sign against yesterday's window (and reaches
    ``drift_min_net``), or crosses ``±drift_threshold``.

Items naming a schedule/procedure event never raise a story alert. One alert per story: the
items of one cluster raise at most one alert whatever the number of rules they trip; the
strongest reason (by severity, then in the order above) names the alert and the others are
listed in its message with the story's sources. A story alert's id is a hash of (cluster id,
severity), so evaluating the same items again yields the same ids, and a story already
alerted raises another alert only when the new one is more severe. Cooldown: after an
``event:<type>`` alert about a ticker, the same event type about it stays quiet for
``cooldown_minutes["event"]`` (``thesis``/``risk``: per thesis and event type) unless the new
alert is more severe. With ``max_item_age_hours`` set, items published longer ago than that
(a first backfill of old entries) raise no story alerts. Muted tickers (``History.muted``)
raise none either.
"""

from __future__ import annotations

from thesiswatch.alerts.engine import evaluate
from thesiswatch.alerts.history import History, HistorySource, NewItem, read_history
from thesiswatch.alerts.keyword import KeywordRule
from thesiswatch.alerts.ledger import alert_id
from thesiswatch.alerts.replay import replay
from thesiswatch.alerts.settings import DEFAULT_COOLDOWNS, RENAMED_RULES, RULES, RuleSettings

__all__ = [
    "DEFAULT_COOLDOWNS",
    "RENAMED_RULES",
    "RULES",
    "History",
    "HistorySource",
    "KeywordRule",
    "NewItem",
    "RuleSettings",
    "alert_id",
    "evaluate",
    "read_history",
    "replay",
]
