"""The ``thesiswatch`` command line: a thin shell over the library.

Global options (``--config``, ``--db``, ``--watchlist``) work before the command and after
it. A user's mistake prints one line (``thesiswatch: error: ...``) and exits 1; it never
shows a traceback. Heavy imports (Textual, httpx, snownlp) happen inside the commands that
need them, so ``thesiswatch --help`` and ``thesiswatch query`` start fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from thesiswatch import ALERTS_SEEN_KEY, __version__
from thesiswatch.errors import ConfigError, ThesiswatchError
from thesiswatch.session import Session

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is not None:
            obj = ctx.ensure_object(Session)
            setattr(obj, name, value)
        return value

    return callback


GLOBAL_OPTIONS = {
    "config": "Config file (TOML). Env: THESISWATCH_CONFIG.",
    "db": "SQLite database file. Env: THESISWATCH_DB.",
    "watchlist": "Watchlist file (TOML); default: the built-in DeepSeek report watchlist.",
}


def global_options(func: F) -> F:
    """Add --config/--db/--watchlist; accepted on the group and on every command."""
    for name, text in reversed(GLOBAL_OPTIONS.items()):
        func = click.option(
            f"--{name}",
            type=click.Path(dir_okay=False),
            expose_value=False,
            callback=_remember(name),
            help=text,
        )(func)
    return func


def handle_errors(func: F) -> F:
    """Turn a ThesiswatchError into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ThesiswatchError as exc:
            click.echo(f"thesiswatch: error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            sys.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def _obj() -> Session:
    return click.get_current_context().ensure_object(Session)


def parse_since(value: str | None) -> datetime | None:
    """``--since``: an ISO date/time (UTC if no offset) or a span like 24h, 7d, 90m."""
    if value is None:
        return None
    text = value.strip()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if len(text) >= 2 and text[:-1].isdigit() and text[-1] in units:
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--since: expected an ISO date/time or a span like 24h or 7d, got {value!r}"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@global_options
@click.version_option(__version__, prog_name="thesiswatch")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """thesiswatch: news and sentiment for an equity-research thesis.

    Watches DeepSeek and every covered ticker in Chinese and English, tags each item with
    tickers, thesis stance and finance sentiment, keeps the history in SQLite and raises
    alerts. With no command it opens the TUI.
    """
    ctx.ensure_object(Session)
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui)


# -- interactive ---------------------------------------------------------------------------


@cli.command()
@global_options
@click.option(
    "--no-poll",
    is_flag=True,
    help="Attach to a database a daemon writes: poll nothing, store only your alert triage.",
)
@click.option(
    "--demo", is_flag=True, help="Poll the bundled sample feeds on 127.0.0.1 (no network)."
)
@handle_errors
def tui(no_poll: bool = False, demo: bool = False) -> None:
    """Open the terminal UI (the default command)."""
    from thesiswatch.tui.launch import run_tui

    run_tui(_obj(), no_poll=no_poll, demo=demo)


@cli.command()
@global_options
@handle_errors
def demo() -> None:
    """Open the TUI on bundled sample feeds served on 127.0.0.1 (no network needed).

    Uses a throw-away database unless --db is given.
    """
    from thesiswatch.tui.launch import run_tui

    run_tui(_obj(), no_poll=False, demo=True)


# -- headless ------------------------------------------------------------------------------


@cli.command()
@global_options
@click.option("--once", is_flag=True, help="Poll every source once, print a summary, exit.")
@click.option(
    "--alerts-jsonl",
    type=click.Path(dir_okay=False),
    help="Append alerts as JSON Lines to this file (also [alerts] jsonl in the config).",
)
@click.option("--demo", is_flag=True, help="Poll the bundled sample feeds on 127.0.0.1.")
@handle_errors
def daemon(once: bool = False, alerts_jsonl: str | None = None, demo: bool = False) -> None:
    """Poll headless: store items, write alerts, until SIGINT/SIGTERM (SIGHUP reloads config)."""
    from thesiswatch.daemon import run_daemon

    code = run_daemon(
        _obj(), once=once, alerts_jsonl=Path(alerts_jsonl) if alerts_jsonl else None, demo=demo
    )
    sys.exit(code)


@cli.command()
@global_options
@click.option("--pretty", is_flag=True, help="Indent the JSON (one object per block).")
@handle_errors
def tag(pretty: bool = False) -> None:
    """Tag JSON Lines from stdin: each line needs "title"; prints tagged JSON Lines.

    Example: echo '{"title": "英伟达股价大跌17%"}' | thesiswatch tag
    """
    from thesiswatch.tag_stream import tag_stream

    obj = _obj()
    errors = tag_stream(sys.stdin, sys.stdout, obj.load_watchlist(), obj.settings(), pretty=pretty)
    if errors:
        sys.exit(EXIT_ERROR)


# -- analysis ------------------------------------------------------------------------------


@cli.command()
@global_options
@click.argument("what", type=click.Choice(["items", "alerts"]))
@click.option("--since", help="ISO date/time or span (24h, 7d).")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@handle_errors
def export(what: str, since: str | None, fmt: str) -> None:
    """Export stored items or alerts as JSON Lines or CSV on stdout."""
    from thesiswatch.output import write_records

    with _obj().open_store(readonly=True) as store:
        rows: Iterator[dict[str, Any]]
        when = parse_since(since)
        rows = (
            store.export_items(since=when) if what == "items" else store.export_alerts(since=when)
        )
        write_records(rows, sys.stdout, fmt)


@cli.command()
@global_options
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@handle_errors
def query(sql: str, fmt: str) -> None:
    """Run one read-only SQL statement on the database (writes are refused)."""
    from thesiswatch.output import write_query

    with _obj().open_store(readonly=True) as store:
        columns, rows = store.query(sql)
        write_query(columns, rows, sys.stdout, fmt)


@cli.command()
@global_options
@click.option(
    "--older-than", "older_than", default=None, help="Age like 365d (default: [retention] days)."
)
@handle_errors
def prune(older_than: str | None) -> None:
    """Delete items older than an age (alerts and daily aggregates are kept), then VACUUM."""
    obj = _obj()
    days = obj.settings().retention_days
    if older_than is None and days is None:
        raise ConfigError(
            "prune: give --older-than (e.g. 365d) or set [retention] days in the config"
        )
    if older_than is not None:
        cutoff = parse_since(older_than)
        assert cutoff is not None
        age = datetime.now(UTC) - cutoff
    else:
        age = timedelta(days=days or 0)
    with obj.open_store() as store:
        result = store.prune(older_than=age)
    click.echo(f"pruned {result.items_deleted} items older than {age.days} days")


@cli.command()
@global_options
@click.option(
    "--since",
    default="last",
    show_default=True,
    help="'last' (since you last looked), ISO time or span.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True
)
@handle_errors
def alerts(since: str, fmt: str) -> None:
    """What happened while you were away: alerts since you last looked (or since a time)."""
    from thesiswatch.output import write_alerts_summary, write_dead_deliveries

    with _obj().open_store() as store:
        if since == "last":
            mark = store.meta_get(ALERTS_SEEN_KEY)
            when = datetime.fromisoformat(mark) if mark else None
        else:
            when = parse_since(since)
        rows = store.alerts(since=when, limit=10_000, include_hidden=False)
        write_alerts_summary(rows, sys.stdout, fmt, since=when)
        if fmt == "text":
            write_dead_deliveries(store.outbox(status="dead"), sys.stdout)
        if since == "last":
            store.meta_set(ALERTS_SEEN_KEY, datetime.now(UTC).isoformat(timespec="seconds"))


# -- sources -------------------------------------------------------------------------------


@cli.group()
@global_options
def sources() -> None:
    """List, check, import and export the polled sources."""


@sources.command("list")
@global_options
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@handle_errors
def sources_list(fmt: str) -> None:
    """The sources polled and their health."""
    from thesiswatch.source_commands import list_sources

    list_sources(_obj(), sys.stdout, fmt)


@sources.command("check")
@global_options
@click.option("--timeout", default=15.0, show_default=True, help="Seconds per source.")
@handle_errors
def sources_check(timeout: float) -> None:
    """Probe every source once now and report (stores nothing but health)."""
    from thesiswatch.source_commands import check_sources

    sys.exit(check_sources(_obj(), sys.stdout, timeout=timeout))


@sources.command("import-opml")
@global_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@handle_errors
def sources_import(file: str) -> None:
    """Print [[sources]] TOML for the feeds of an OPML file (append it to your config)."""
    from thesiswatch.source_commands import import_opml

    import_opml(Path(file), sys.stdout)


@sources.command("export-opml")
@global_options
@handle_errors
def sources_export() -> None:
    """Write the polled sources as OPML on stdout."""
    from thesiswatch.source_commands import export_opml

    export_opml(_obj(), sys.stdout)


# -- rules ---------------------------------------------------------------------------------


@cli.group()
@global_options
def rules() -> None:
    """Work with alert rules."""


@rules.command("test")
@global_options
@click.option("--days", type=int, default=None, help="How far back to replay (default 7).")
@click.option("--since", default=None, help="ISO date/time or span (24h, 7d), instead of --days.")
@click.option(
    "--rule", "rule_name", default=None,
    help="Only this rule: event, event:<type>, thesis, risk, spike, drift or a keyword rule.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
    help="jsonl: each would-be alert as its alert JSON, with item_ids.",
)  # fmt: skip
@handle_errors
def rules_test(days: int | None, since: str | None, rule_name: str | None, fmt: str) -> None:
    """Replay the configured rules over stored history: what they would have fired."""
    from thesiswatch.rule_replay import replay_rules

    replay_rules(
        _obj(), sys.stdout, days=days, since=parse_since(since), rule_name=rule_name, fmt=fmt
    )


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="thesiswatch")


if __name__ == "__main__":
    main()
