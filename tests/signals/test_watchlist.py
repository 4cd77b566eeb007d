"""The watchlist format: the built-in file, parsing, validation errors, loading files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.models import THESIS_IDS
from thesiswatch.signals.watchlist import parse_watchlist
from thesiswatch.watchlists import load_watchlist

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT.parent / "shared" / "report" / "deepseek-ai-report-zh.txt"

DESIGN_TICKERS = (
    "2330.TT", "NVDA.US", "AMD.US", "AAPL.US", "1810.HK", "285.HK", "300433.CH", "002475.CH",
    "NIO.US", "XPEV.US", "LI.US", "9863.HK", "1211.HK", "HSAI.US", "2498.HK", "MBLY.US",
    "981.HK", "1347.HK", "605111.CH", "300373.CH", "688396.CH", "DEEPSEEK",
)  # fmt: skip

MINIMAL = """
name = "Mini"
[[theses]]
id = "t1"
title = "Thesis one"
[[companies]]
id = "ABC.US"
name = "Abc Corp"
aliases = ["Abc Corp"]
theses = ["t1"]
"""


@pytest.fixture(scope="module")
def builtin():
    return load_watchlist()


def test_builtin_has_the_design_tickers_in_order(builtin) -> None:
    assert builtin.ticker_ids == DESIGN_TICKERS


def test_builtin_has_the_four_theses_with_their_tickers(builtin) -> None:
    assert tuple(t.id for t in builtin.theses) == THESIS_IDS
    assert builtin.thesis("compute").tickers == ("2330.TT", "NVDA.US", "AMD.US")
    assert "1810.HK" in builtin.thesis("edge").tickers
    assert builtin.thesis("localization").tickers == (
        "981.HK", "1347.HK", "605111.CH", "300373.CH", "688396.CH",
    )  # fmt: skip
    assert builtin.thesis("risk").tickers == ()
    for thesis in builtin.theses:
        assert thesis.title and thesis.title_zh and thesis.statement
        assert thesis.support
        # a risk board's evidence can only materialise: it has no challenge cues
        assert bool(thesis.challenge) == (thesis.role != "risk"), thesis.id
    assert builtin.thesis("risk").role == "risk"


def test_builtin_companies_and_facts(builtin) -> None:
    tsmc = builtin.company("2330.TT")
    assert tsmc.name == "TSMC" and tsmc.name_zh == "台积电"
    assert tsmc.listings == ("2330.TT", "TSM.US") and tsmc.theses == ("compute",)
    assert builtin.company("1211.HK").listings == ("1211.HK", "002594.CH")
    assert builtin.company("DEEPSEEK").listings == ()
    assert len(builtin.facts) >= 5
    assert builtin.description


def test_lookup_of_an_unknown_id_raises_key_error(builtin) -> None:
    with pytest.raises(KeyError, match="ZZZ"):
        builtin.company("ZZZ")
    with pytest.raises(KeyError, match="nope"):
        builtin.thesis("nope")


@pytest.mark.skipif(not REPORT.exists(), reason="report text not beside the repo")
def test_builtin_does_not_copy_the_reports_sentences() -> None:
    report = re.sub(r"\s", "", REPORT.read_text(encoding="utf-8"))
    text = (ROOT / "thesiswatch" / "watchlists" / "deepseek_r1.toml").read_text(encoding="utf-8")
    for run in re.findall(r"[\u4e00-\u9fff，、；：]{10,}", text):
        for i in range(len(run) - 9):
            assert run[i : i + 10] not in report, run


def test_docs_example_parses() -> None:
    doc = (ROOT / "docs" / "watchlist.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)
    assert blocks, "docs/watchlist.md has a ```toml example"
    wl = parse_watchlist(blocks[0], origin="docs/watchlist.md")
    assert wl.theses and wl.companies


def test_minimal_watchlist_and_derived_links() -> None:
    wl = parse_watchlist(MINIMAL)
    assert wl.name == "Mini"
    assert wl.thesis("t1").tickers == ("ABC.US",)
    assert wl.company("ABC.US").theses == ("t1",)
    assert wl.stance_from_sentiment == 0.0


def test_tickers_listed_on_a_thesis_are_linked_back_to_the_company() -> None:
    text = MINIMAL.replace('theses = ["t1"]', "").replace(
        'title = "Thesis one"', 'title = "Thesis one"\ntickers = ["ABC.US"]'
    )
    wl = parse_watchlist(text)
    assert wl.company("ABC.US").theses == ("t1",)


BAD = [
    ("name = [1", "not valid TOML"),
    ('description = "x"', "name: missing"),
    ('name = "x"', "theses: expected at least one"),
    (MINIMAL + "colour = 1\n", "colour: unknown key"),
    (MINIMAL.replace("aliases =", "alias ="), "companies[0].alias: unknown key"),
    (
        MINIMAL.replace('theses = ["t1"]', 'theses = ["t9"]'),
        "companies[0].theses: expected thesis ids",
    ),
    (
        MINIMAL.replace('id = "ABC.US"', 'id = "ABC.US"\nlistings = ["ABC"]'),
        "companies[0].listings",
    ),
    (
        MINIMAL.replace('aliases = ["Abc Corp"]', "aliases = 3"),
        "companies[0].aliases: expected a list",
    ),
    (MINIMAL.replace('aliases = ["Abc Corp"]', 'aliases = [""]'), "companies[0].aliases"),
    (
        MINIMAL + '[[companies]]\nid = "ABC.US"\nname = "Again"\naliases = ["x"]\n',
        "companies[1].id",
    ),
    (
        MINIMAL.replace('title = "Thesis one"', 'title = "T"\nsupport = ["@nothing"]'),
        "theses[0].support: expected @names",
    ),
    (MINIMAL.replace('title = "Thesis one"', 'title = "T"\nsupport = ["#t7 + x"]'), "#thesis ids"),
    (
        MINIMAL.replace('title = "Thesis one"', 'title = "T"\nsupport = ["!x"]'),
        "at least one positive term",
    ),
    (
        MINIMAL.replace('title = "Thesis one"', 'title = "T"\ntickers = ["NOPE.US"]'),
        "theses[0].tickers",
    ),
    (
        "stance_from_sentiment = 2\n" + MINIMAL,
        "stance_from_sentiment: expected a number from 0 to 1",
    ),
    (
        MINIMAL.replace(
            'aliases = ["Abc Corp"]', '[[companies.ambiguous]]\nnames = ["Abc"]\nwindow = -1'
        ),
        "ambiguous[0].window",
    ),
    (
        MINIMAL.replace(
            'aliases = ["Abc Corp"]', '[[companies.ambiguous]]\nnames = ["Abc"]\nnear = ["x"]'
        ),
        "ambiguous[0].near: unknown key",
    ),
    (
        MINIMAL.replace('name = "Abc Corp"\naliases = ["Abc Corp"]', 'name = "Abc Corp"'),
        "at least one of aliases",
    ),
    (MINIMAL + '[vocab]\nBad-Name = ["x"]\n', "vocab.Bad-Name"),
    (MINIMAL + "[vocab]\nempty = []\n", "vocab.empty: expected a non-empty list"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_watchlist_text_names_origin_key_and_expectation(text: str, message: str) -> None:
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(text, origin="my.toml")
    msg = str(info.value)
    assert msg.startswith("my.toml: ")
    assert message in msg
    assert "\n" not in msg


def test_load_watchlist_reads_a_user_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_watchlist(path).name == "Mini"


def test_load_watchlist_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(WatchlistError, match=r"missing\.toml: watchlist file not found"):
        load_watchlist(path)


def test_load_watchlist_directory(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError, match="is a directory"):
        load_watchlist(tmp_path)


def test_load_watchlist_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(WatchlistError, match=r"latin\.toml: not UTF-8"):
        load_watchlist(path)


def test_load_watchlist_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    assert str(info.value).startswith(f"{path}: not valid TOML")
