"""Model-written HTML (``%%llm -f html``) made safe: it is shown, never run.

The sanitising is nh3's (the Rust ammonia library): an allow-list of tags and
attributes, the contents of script-like elements dropped whole, comments removed. What is
ours is the list, the URL rule (web links, plus inline images), the CSS properties a
table may keep, and opening links in a new tab so a click never navigates JupyterLab away.
A remote image becomes a link to it, unless the session allows remote images: loading it
would send a request the model chose (a prompt-injected reply can put data in the URL).
"""
from __future__ import annotations

import re
from html import escape, unescape

from ..core.markdown import image_allowed, inline_image, strip_controls

_TAGS = frozenset("""a abbr article aside b bdi bdo blockquote br caption cite code col colgroup dd del
details dfn div dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hr i img ins kbd li main mark
nav ol p pre q s samp section small span strong sub summary sup table tbody td tfoot th thead time tr u ul
var wbr""".split())
_DROPPED = frozenset("""script style iframe frame frameset object embed applet template noscript
svg math head title textarea select button form noembed xmp plaintext""".split())
_ATTRIBUTES = {
    "*": {"title", "lang", "dir", "style", "align", "valign", "width", "height"},
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan", "headers", "abbr", "scope"},
    "th": {"colspan", "rowspan", "headers", "abbr", "scope"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "reversed"},
    "details": {"open"},
    "time": {"datetime"},
    "q": {"cite"}, "blockquote": {"cite"}, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
}
#: CSS a model may use to style a table or a note; nothing that moves, covers or loads.
_STYLE = frozenset("""color background-color font-weight font-style font-size font-family text-align
text-decoration vertical-align white-space border border-collapse border-color border-style border-width
padding padding-left padding-right padding-top padding-bottom margin margin-left margin-right margin-top
margin-bottom width height max-width min-width line-height""".split())
_IMG = re.compile(r"<img\b([^>]*)>")
_ATTR = re.compile(r'\b(src|alt)="([^"]*)"')


def safe_html(text: str) -> str:
    """``text`` as HTML that cannot run code: no scripts, no event handlers, no javascript: URLs.

    Example::

        safe_html('<b onclick="x()">hi</b><script>alert(1)</script>')  # '<b>hi</b>'
    """
    import nh3

    cleaned = nh3.clean(
        strip_controls(text), tags=set(_TAGS), clean_content_tags=set(_DROPPED), attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        attribute_filter=_attribute, strip_comments=True, link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}}, url_schemes={"http", "https", "mailto", "data"},
        filter_style_properties=set(_STYLE))
    return _IMG.sub(_image, cleaned)


def _image(match: re.Match) -> str:
    # nh3's output quotes every attribute with " and escapes the values: this reading is exact.
    attrs = dict(_ATTR.findall(match.group(1)))
    src = unescape(attrs.get("src", ""))
    if image_allowed(src):
        return match.group(0)
    label = unescape(attrs.get("alt", "")) or src or "image"
    if not src:
        return escape(label)
    return f'<a href="{escape(src)}" target="_blank" rel="noopener noreferrer">{escape(label)}</a>'


def _attribute(tag: str, name: str, value: str) -> str | None:
    # data: URLs are kept for inline images only; styles that load or compute anything go.
    if value.lower().lstrip().startswith("data:"):
        return value if tag == "img" and name == "src" and inline_image(value) else None
    if name == "style" and re.search(r"url\s*\(|expression|javascript|@import|behavior|binding", value, re.I):
        return None
    return value
