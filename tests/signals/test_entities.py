"""Ticker linking: names, codes, traditional forms, and every disambiguation case in the data."""

from __future__ import annotations

import pytest

from thesiswatch.signals.entities import Linker, code_forms, fold
from thesiswatch.signals.watchlist import parse_watchlist
from thesiswatch.watchlists import load_watchlist


@pytest.fixture(scope="module")
def linker() -> Linker:
    return Linker(load_watchlist())


def ids(linker: Linker, text: str) -> list[str]:
    return [m.ticker for m in linker.link(text)]


# (text, expected tickers in order of first appearance)
DISAMBIGUATION = [
    # 理想 the word vs Li Auto
    ("理想汽车11月交付量创年内新高", ["LI.US"]),
    ("理想L6单月销量突破两万台", ["LI.US"]),
    ("蔚来、理想、小鹏公布10月交付数据", ["NIO.US", "LI.US", "XPEV.US"]),
    ("这份财报不太理想，投资者用脚投票", []),
    ("理想很丰满，现实很骨感", []),
    ("年轻人的理想工作是什么", []),
    # 小米 the grain vs Xiaomi
    ("小米发布新一代旗舰手机", ["1810.HK"]),
    ("喝小米粥的五个好处", []),
    ("今年山西小米亩产提高，农户增收", []),
    ("小米辣涨价，川菜馆压力大", []),
    # 苹果 the fruit vs Apple
    ("苹果下调iPhone售价应对国补", ["AAPL.US"]),
    ("苹果公司市值重回榜首", ["AAPL.US"]),
    ("红富士苹果批发价每斤下跌", []),
    ("秋季果园苹果丰收，果农忙采摘", []),
    # 速腾 Volkswagen Sagitar vs RoboSense
    ("速腾聚创发布新款数字化激光雷达", ["2498.HK"]),
    ("大众速腾推出限时优惠", []),
    ("新速腾上市，一汽-大众加码燃油车", []),
    # Super Micro vs AMD
    ("超微电脑因财报延迟遭纳斯达克警告", []),
    ("超威半导体发布MI350加速卡", ["AMD.US"]),
    ("超威AI芯片获甲骨文大单", ["AMD.US"]),
    ("超威动力发布电池新品", []),
    # BYD Electronic vs BYD
    ("比亚迪电子半年报：汽车业务收入大增", ["285.HK"]),
    ("BYD Electronics wins more Apple orders", ["285.HK", "AAPL.US"]),
    ("比亚迪2月销量同比增长", ["1211.HK"]),
    ("比亚迪与比亚迪电子同日发布公告", ["1211.HK", "285.HK"]),
    # Hua Hong: two names, one company
    ("华虹公司科创板股价走强", ["1347.HK"]),
    ("华虹半导体港股大涨", ["1347.HK"]),
    ("华虹公司与华虹半导体同步公告", ["1347.HK"]),
    # Apple the fruit / the Big Apple / other Apples
    ("Apple to open more stores in India", ["AAPL.US"]),
    ("Tourists flock back to the Big Apple", []),
    ("Apple growers warn of smaller crop", []),
    ("Bake the perfect apple pie", []),
    ("Apple Daily's former editor sentenced", []),
    # Li the surname
    ("Li Auto shares jump on strong guidance", ["LI.US"]),
    ("Premier Li Qiang meets business leaders", []),
    ("Li Ka-shing's CK Hutchison sells ports", []),
    # Lens: camera lens vs Lens Technology
    ("Lens Technology wins glass orders for foldables", ["300433.CH"]),
    ("Sony's new camera lens sells out", []),
    # leap the verb vs Leapmotor
    ("Leapmotor deliveries double in September", ["9863.HK"]),
    ("Shares leap after earnings beat", []),
    # AMD the eye disease / amd64
    ("AMD launches new Ryzen chips", ["AMD.US"]),
    ("New therapy slows wet AMD progression", []),
    ("Patients with AMD see better vision after injections", []),
    ("Ubuntu drops 32-bit support, keeps amd64", []),
    # NIO inside other words
    ("NIO shares rise on ET9 deliveries", ["NIO.US"]),
    ("Union leaders meet in San Antonio", []),
    ("SENIOR OFFICIALS UNION MEETING", []),
    ("Nio's Onvo brand starts L90 deliveries", ["NIO.US"]),
    # SMIC vs lookalikes
    ("中芯集成发布年报", []),
    ("其中芯片收入占比提升", []),
    ("中芯国际扩产成熟制程", ["981.HK"]),
    # Cook Islands, Captain Cook
    ("库克群岛与中国签署合作协议", []),
    ("库克船长的航海日志再版", []),
    ("库克：苹果将继续在中国投资", ["AAPL.US"]),
    # founders' names are common names: they need company context
    ("李斌：蔚来明年实现盈利", ["NIO.US"]),
    ("青年作家李斌新书出版", []),
    ("李想：理想i8定位家庭用户", ["LI.US"]),
    ("演员李想新剧开播", []),
    # Blackwell the surname vs the NVIDIA GPU
    ("Blackwell chips sell out for 2025", ["NVDA.US"]),
    ("Author Blackwell wins literary prize", []),
    # Chinese names across a word boundary
    ("两部门建立訊息共享機制", []),  # 建立 + 讯息, not 立讯
    ("市场呈奔腾势头", []),  # 奔腾 + 势头, not 腾势 (Denza)
    ("腾势N9上市首月订单破万", ["1211.HK"]),
    ("从零跑到全马只用了一年", []),
]


@pytest.mark.parametrize(("text", "expected"), DISAMBIGUATION)
def test_disambiguation(linker: Linker, text: str, expected: list[str]) -> None:
    assert ids(linker, text) == expected


CODES = [
    ("NVDA falls premarket", ["NVDA.US"]),
    ("$NVDA and $AMD options volume spikes", ["NVDA.US", "AMD.US"]),
    ("Nvidia (NASDAQ: NVDA) rallies", ["NVDA.US"]),
    ("英伟达（NVDA.US）收涨", ["NVDA.US"]),
    ("台积电（2330.TW）开盘上涨", ["2330.TT"]),
    ("2330.TT and TSM.US both slide", ["2330.TT"]),
    ("TSM shares rise", ["2330.TT"]),
    ("小米集团-W（01810.HK）", ["1810.HK"]),
    ("Xiaomi 1810.HK", ["1810.HK"]),
    ("小米集团(01810)早盘走高", ["1810.HK"]),
    ("比亚迪（002594.SZ）", ["1211.HK"]),
    ("比亚迪股份 002594", ["1211.HK"]),
    ("SZ002594 收涨", ["1211.HK"]),
    ("中芯国际（688981.SH）", ["981.HK"]),
    ("SH688981 成交放量", ["981.HK"]),
    ("中芯国际(00981.HK)", ["981.HK"]),
    ("00285.HK 放量上涨", ["285.HK"]),
    ("蔚来-SW（09866.HK）", ["NIO.US"]),
    ("XPEV and LI.US gap up", ["XPEV.US", "LI.US"]),
    ("华虹公司（688347.SH）", ["1347.HK"]),
    ("立讯精密（002475.SZ）", ["002475.CH"]),
    ("新洁能605111", ["605111.CH"]),
    ("HSAI jumps; MBLY slips", ["HSAI.US", "MBLY.US"]),
    ("ＮＶＤＡ（全角）", ["NVDA.US"]),
]


@pytest.mark.parametrize(("text", "expected"), CODES)
def test_listing_code_forms(linker: Linker, text: str, expected: list[str]) -> None:
    assert ids(linker, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单金额20021810元",  # a code inside a longer number
        "营收3002475万元",
        "GDP growth of 1810 basis points",
        "The 2330 bus line",
        "nvda",  # a bare symbol only counts in capitals
        "li.usability",
    ],
)
def test_codes_inside_other_tokens_do_not_link(linker: Linker, text: str) -> None:
    assert ids(linker, text) == []


TRADITIONAL = [
    ("台積電營收創新高", ["2330.TT"]),
    ("輝達執行長黃仁勳訪台", ["NVDA.US"]),
    ("小米集團發布新車", ["1810.HK"]),
    ("蘋果公司新品發表會", ["AAPL.US"]),
    ("比亞迪電子獲訂單", ["285.HK"]),
    ("中芯國際擴產", ["981.HK"]),
    ("蔚來、小鵬、理想汽車交付量", ["NIO.US", "XPEV.US", "LI.US"]),
]


@pytest.mark.parametrize(("text", "expected"), TRADITIONAL)
def test_traditional_chinese_forms(linker: Linker, text: str, expected: list[str]) -> None:
    assert ids(linker, text) == expected


def test_spans_index_the_original_text(linker: Linker) -> None:
    text = "記憶體漲價！輝達（NVDA）與台積電 2330.TW 走高"
    mentions = linker.link(text)
    assert [m.ticker for m in mentions] == ["NVDA.US", "2330.TT"]
    for mention in mentions:
        for (start, end), matched in zip(mention.spans, mention.matched, strict=True):
            assert text[start:end] == matched
    assert mentions[0].matched == ("輝達", "NVDA")
    assert mentions[1].matched == ("台積電", "2330.TW")


def test_order_is_first_appearance(linker: Linker) -> None:
    assert ids(linker, "Apple supplier Luxshare; also Nvidia") == [
        "AAPL.US",
        "002475.CH",
        "NVDA.US",
    ]
    assert ids(linker, "Nvidia and Apple") == ["NVDA.US", "AAPL.US"]


def test_products_and_people(linker: Linker) -> None:
    assert ids(linker, "H20 licences stall") == ["NVDA.US"]
    assert ids(linker, "小米YU7交付提速") == ["1810.HK"]
    assert ids(linker, "小米 SU7 Ultra 上市") == ["1810.HK"]
    assert ids(linker, "梁文锋出席座谈会") == ["DEEPSEEK"]
    assert ids(linker, "深度求索发布新模型") == ["DEEPSEEK"]
    assert ids(linker, "天神之眼全系标配") == ["1211.HK"]


def test_fold_keeps_length() -> None:
    for text in ("記憶體與輝達", "İstanbul NVDA", "ＡＢＣ　台積電", "plain"):
        assert len(fold(text)) == len(text)
    assert fold("輝達ＮＶＤＡ") == "辉达nvda"


def test_code_forms() -> None:
    assert "01810.hk" in code_forms("1810.HK")
    assert "01810" in code_forms("1810.HK")
    assert "00285.hk" in code_forms("285.HK")
    assert {"002594.sz", "sz002594", "002594"} <= set(code_forms("002594.CH"))
    assert {"688981.sh", "sh688981"} <= set(code_forms("688981.CH"))
    assert {"2330.tw", "2330.tt"} <= set(code_forms("2330.TT"))
    assert {"$nvda", "nvda.us", "nasdaq: nvda"} <= set(code_forms("NVDA.US"))


def test_a_user_watchlist_links_with_its_own_rules() -> None:
    wl = parse_watchlist(
        """
name = "Fruit"
[[theses]]
id = "growth"
title = "Growth"
[[companies]]
id = "PEAR.US"
name = "Pear Computers"
listings = ["PEAR.US"]
exact = ["PEAR"]
exclude = ["pear tart"]
[[companies.ambiguous]]
names = ["Pear"]
case_sensitive = true
require_near = ["laptop*", "shares"]
window = 0
"""
    )
    linker = Linker(wl)
    assert [m.ticker for m in linker.link("Pear shares climb")] == ["PEAR.US"]
    assert linker.link("Pear harvest is early") == ()
    assert linker.link("pear shares") == ()  # case-sensitive
    assert [m.ticker for m in linker.link("Buy PEAR now")] == ["PEAR.US"]
    assert [m.ticker for m in linker.link("NASDAQ:PEAR")] == ["PEAR.US"]
    assert linker.link("Pear tart with laptop on the side") == ()


def test_empty_text(linker: Linker) -> None:
    assert linker.link("") == ()
