"""Identity and hygiene of feed entries: canonical URLs, stable ids, plain text, dedup keys.

Everything here is pure: strings in, strings out. Feed text is untrusted: ``plain_text`` and
``clean_text`` remove markup, control characters and terminal escape sequences, so what
leaves ``feeds`` can be shown in a terminal as is.

>>> canonical_url("HTTPS://Example.com:443/a?utm_source=x&b=2&a=1#top")
'https://example.com/a?a=1&b=2'
>>> plain_text("<p>Nvidia &amp; AMD<br>fall</p><script>x()</script>")
'Nvidia & AMD fall'
>>> title_key("Nvidia shares plunge 17% - Reuters") == title_key("NVIDIA Shares Plunge 17%")
True
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlsplit, urlunsplit

__all__ = [
    "canonical_url",
    "clean_text",
    "item_id",
    "plain_text",
    "title_key",
    "url_key",
]

# Query parameters that only say where a click came from. Matched case-insensitively;
# entries ending in "_" are prefixes.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "rb_clickid",
        "s_kwcid",
        "ef_id",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "ncid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "soc_src",
        "soc_trk",
        "__twitter_impression",
        "spm",
        "sr_share",
        "share_token",
        "sharesource",
        "cid_source",
        "at_medium",
        "at_campaign",
        "taid",
        "xtor",
        "ito",
        "src_trk",
        "feature",
        "rss",
        "rssfeed",
        "from_rss",
        "rss_id",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmsr", "itm_", "__hs", "_branch")
# Tracking parameters that are only tracking on particular hosts.
_HOST_TRACKING: dict[str, frozenset[str]] = {
    "news.google.com": frozenset({"oc", "hl", "gl", "ceid", "ucbcb"}),
    "mp.weixin.qq.com": frozenset(
        {
            "chksm",
            "scene",
            "srcid",
            "sharer_sharetime",
            "sharer_shareid",
            "from",
            "isappinstalled",
            "clicktime",
            "enterid",
            "sessionid",
            "ascene",
            "devicetype",
            "version",
            "nettype",
            "lang",
            "pass_ticket",
            "wx_header",
            "key",
            "exportkey",
            "subscene",
            "share_source",
            "poc_token",
            "realreporttime",
        }
    ),
    "finance.yahoo.com": frozenset({".tsrc", "siteid", "lang", "region"}),
}
# Wrapper links (click trackers, redirectors) and the parameter that holds the real URL.
_WRAPPERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("bing.com", "/news/apiclick.aspx", ("url",)),
    ("bing.com", "/ck/a", ("u",)),
    ("google.com", "/url", ("url", "q")),
    ("news.google.com", "/url", ("url", "q")),
    ("news.google.com", "/rss/articles", ("url",)),
    ("news.google.com", "/articles", ("url",)),
    ("facebook.com", "/l.php", ("u",)),
    ("l.facebook.com", "/l.php", ("u",)),
    ("link.zhihu.com", "/", ("target",)),
    ("weibo.cn", "/sinaurl", ("u",)),
    ("finance.yahoo.com", "/r", ("url",)),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str, host: str) -> bool:
    lowered = name.lower()
    if lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES):
        return True
    for suffix, names in _HOST_TRACKING.items():
        if (host == suffix or host.endswith("." + suffix)) and lowered in names:
            return True
    return False


def _host_matches(host: str, wanted: str) -> bool:
    return host == wanted or host.endswith("." + wanted)


_WRAPPER_HOSTS = tuple({h for h, _, _ in _WRAPPERS})


def _unwrap(url: str) -> str:
    """Follow wrapper links (up to a few levels) to the URL they carry, when they carry one."""
    for _ in range(4):
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host.endswith(_WRAPPER_HOSTS):  # the common case: not a wrapper host at all
            return url
        path = parts.path.rstrip("/") or "/"
        inner = None
        for wanted_host, wanted_path, params in _WRAPPERS:
            if not _host_matches(host, wanted_host):
                continue
            if wanted_path != "/" and not (
                path == wanted_path or path.startswith(wanted_path + "/")
            ):
                continue
            query = dict(parse_qsl(parts.query, keep_blank_values=False))
            lowered = {k.lower(): v for k, v in query.items()}
            for param in params:
                candidate = lowered.get(param)
                if candidate:
                    candidate = candidate.strip()
                    if "%3a" in candidate[:12].lower():
                        candidate = unquote(candidate)
                    if candidate.lower().startswith(("http://", "https://")):
                        inner = candidate
                        break
            if inner:
                break
        if inner is None:
            return url
        url = inner
    return url


@lru_cache(maxsize=8192)
def canonical_url(url: str) -> str:
    """The canonical form of an article URL.

    Wrapper links (Bing ``apiclick.aspx?url=``, Google ``/url?q=``, Facebook ``l.php``) are
    unwrapped when the real URL is present; tracking parameters (``utm_*``, ``fbclid``,
    Google News' ``oc``, ...) and the fragment are removed; scheme and host are lower-cased,
    default ports dropped, the remaining query sorted. Anything that is not an http(s) URL
    is returned stripped of surrounding whitespace.

    >>> canonical_url("http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=9&url=https%3a%2f%2fexample.com%2fstory%3fid%3d1&c=1")
    'https://example.com/story?id=1'
    >>> canonical_url("https://news.google.com/rss/articles/CBMiK2h0?oc=5&hl=en-US")
    'https://news.google.com/rss/articles/CBMiK2h0'
    """
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return url
    try:
        return _canonical(url)
    except ValueError:  # "Invalid IPv6 URL", a bad port...: keep the text as it came
        return url


def _canonical(url: str) -> str:
    url = _unwrap(url)
    parts = urlsplit(url)
    port = parts.port
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return url
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    netloc = host
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    # Filter and sort the raw "name=value" pieces: decoding and re-encoding would change
    # what some servers see ("+" versus "%2B") and is not idempotent.
    pieces = [
        p
        for p in parts.query.split("&")
        if p and not _is_tracking(unquote_plus(p.split("=", 1)[0]), host)
    ]
    pieces.sort(key=lambda p: p.split("=", 1)[0])
    query = "&".join(quote(p, safe="/:,@!$'()*+;=~%?") for p in pieces)
    path = parts.path or "/"
    path = quote(path, safe="/:@!$&'()*+,;=~%-._")
    if _host_matches(host, "news.google.com") and path.startswith("/articles/"):
        path = "/rss" + path
    return urlunsplit((scheme, netloc, path, query, ""))


@lru_cache(maxsize=8192)
def url_key(url: str) -> str:
    """A looser key of a URL for identity: canonical, then http/https, ``www.`` and a
    trailing slash folded, so the same article linked two ways gets one id.

    >>> url_key("http://www.example.com/a/") == url_key("https://example.com/a")
    True
    """
    canon = canonical_url(url)
    try:
        parts = urlsplit(canon)
    except ValueError:
        return canon
    if parts.scheme not in ("http", "https"):
        return canon
    netloc = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, parts.query, ""))


# ---------------------------------------------------------------------------------------------
# text

# CSI / OSC / other ESC sequences, then any remaining C0/C1 control characters (tab, newline
# and carriage return are turned into spaces elsewhere), bidi overrides that can reorder what a
# terminal shows, and other invisible format characters that have no place in a headline.
_ANSI = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                # CSI ... final byte
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?   # OSC ... BEL or ST
    | \x1b[P^_X][^\x1b]*(?:\x1b\\)?        # DCS / PM / APC / SOS ... ST
    | \x9b[0-?]*[ -/]*[@-~]                # 8-bit CSI
    | \x1b[@-Z\\-_]                        # two-byte escapes
    | \x1b                                 # a lone ESC
    """,
    re.VERBOSE,
)
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
    "\u2066-\u2069\ufeff\ufff9-\ufffb\ufffc]"
)
_SPACES = re.compile(r"[\s\u00a0\u3000]+")


def clean_text(text: str) -> str:
    """Untrusted plain text -> one line of safe text: escape sequences and control characters
    removed, whitespace collapsed, NFC-normalised. HTML is *not* interpreted.

    >>> clean_text("red\\x1b[31m alert\\x07\\n  now")
    'red alert now'
    """
    if not text:
        return ""
    text = _ANSI.sub("", text)
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "img",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)
_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "svg", "head", "title"}
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


_MARKUP_HINT = re.compile(r"<[a-zA-Z/!?]|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
_COMPLEX = re.compile(r"<[!?]|<\s*/?\s*(?:" + "|".join(sorted(_SKIP_TAGS)) + r")\b", re.IGNORECASE)
_SIMPLE_TAG = re.compile(r"""<(/?)([a-zA-Z][\w:-]*)(?:\s+(?:[^>"']|"[^"]*"|'[^']*')*)?\s*/?>""")
_TAG_START = re.compile(r"<[a-zA-Z/]")


def _tag_space(match: re.Match[str]) -> str:
    return " " if match.group(2).lower() in _BLOCK_TAGS else ""


def plain_text(html_text: str) -> str:
    """Untrusted HTML -> plain text on one line: tags dropped (script/style with their
    content), entities decoded, control characters and escape sequences removed.

    >>> plain_text('<a href="x">Headline</a>&nbsp;&nbsp;<font color="#6f6f6f">Reuters</font>')
    'Headline Reuters'
    """
    if not html_text:
        return ""
    if not _MARKUP_HINT.search(html_text):
        return clean_text(html_text)
    if not _COMPLEX.search(html_text):
        # Plain tags only (the common case: <p>, <a>, <br>, <img>): a regex is several times
        # faster than HTMLParser and gives the same text.
        text = _SIMPLE_TAG.sub(_tag_space, html_text)
        if not _TAG_START.search(text):
            return clean_text(html.unescape(text))
    return _parsed_text(html_text)


def _parsed_text(html_text: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html_text)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # HTMLParser is lenient, but never let odd markup escape as an error
        text = re.sub(r"<[^>]*>", " ", html.unescape(html_text))
    return clean_text(text)


# ---------------------------------------------------------------------------------------------
# identity

_SUFFIX_SEPARATORS = re.compile(r"\s+(?:-|\||–|—|·|::)\s+|\s*_\s*(?=[^_]*[\u3400-\u9fff])|\s*｜\s*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KEY_DROP = re.compile(r"[\W_]+", re.UNICODE)


def _strip_publisher(title: str) -> str:
    """Remove a trailing "- Publisher" / "| Site" / "_新浪财经" segment when it looks like one."""
    matches = list(_SUFFIX_SEPARATORS.finditer(title))
    if not matches:
        return title
    last = matches[-1]
    head, tail = title[: last.start()].strip(), title[last.end() :].strip()
    if not head or not tail:
        return title
    han_tail = len(_HAN.findall(tail))
    short_tail = (len(tail.split()) <= 5 and len(tail) <= 40) if not han_tail else len(tail) <= 16
    long_head = len(head) >= max(8, len(tail)) or (len(_HAN.findall(head)) >= 4)
    if short_tail and long_head:
        return head
    return title


def title_key(title: str) -> str:
    """A normalised title for dedup: NFKC (full-width folded), case-folded, a trailing
    publisher suffix removed, punctuation and spacing dropped.

    >>> title_key("英伟达股价大跌17% - 新浪财经") == title_key("英伟达股价大跌 17%")
    True
    """
    text = unicodedata.normalize("NFKC", clean_text(html.unescape(title)))
    # Strip up to two suffixes ("Headline - Section - Publisher").
    for _ in range(2):
        stripped = _strip_publisher(text)
        if stripped == text:
            break
        text = stripped
    return _KEY_DROP.sub("", text.casefold())


def _digest(kind: str, *parts: str) -> str:
    raw = "\x1f".join((kind, *parts)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:24]


def item_id(*, url: str | None, guid: str | None, source_id: str, title: str) -> str:
    """A stable id for an entry, the same across polls, restarts and (when it has a URL)
    sources: from the URL key when there is a URL, else from the source and the guid, else
    from the source and the normalised title.

    >>> a = item_id(url="https://ex.com/a?utm_source=rss", guid="1", source_id="s1", title="A")
    >>> a == item_id(url="http://www.ex.com/a", guid="zz", source_id="s2", title="A (edited)")
    True
    """
    if url:
        key = url_key(url)
        if key.startswith("https://"):
            return "u" + _digest("url", key)
    if guid and guid.strip():
        return "g" + _digest("guid", source_id, guid.strip())
    return "t" + _digest("title", source_id, title_key(title))
