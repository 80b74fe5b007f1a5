"""The rendering oracle of issue #3, shared by the reference tests.

For a page rendered twice, once as written and once after the plugin (or ``rewrite``) has done its
work, the two HTML documents must be identical except for the ``src``/``srcset``/``href`` values of
local images, each replaced by the cloud URL of its file carrying the original ``?query#fragment``.

Both documents are tokenized with :class:`html.parser.HTMLParser` (``convert_charrefs=False``, so
entity and character references stay distinct tokens and text is compared exactly); the token
streams must have the same length and kinds; text, comments, declarations, tag names, attribute
names and order, and every attribute that is not an image URL must be equal. An image URL (``<img
src>``, each ``srcset`` entry, ``<a href>``, ``<video src poster>``, ``<audio>``/``<source>``/
``<track src>``, ``<object data>``, ``<embed src>``, each ``url(…)`` of a ``style``) is expected to
change exactly when it resolves, relative to the page, to a file of ``cloud`` of a kind published
by default (images, video, audio: a link to a PDF stays), and then into
``with_suffix(cloud[path], suffix)``.

The module also provides the source-level check of the ``rewrite`` path (:func:`source_edits`) and
small helpers to load the corpus' extensions.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterable, Mapping

import yaml

from mkdocs_wxcloud.references.assets import parse as parse_assets
from mkdocs_wxcloud.references.rawhtml import URL_ATTRIBUTES, srcset_spans
from mkdocs_wxcloud.references.urls import resolve, source_pattern, with_suffix

ASSETS = parse_assets(None)  # the default kinds: images, video, audio
# The oracle's own reading of CSS (not the scanner under test): comments and strings are no
# references, a url() is quoted or bare and closed by ")"
_CSS = re.compile(
    r"""/\*.*?(?:\*/|$)|(?<![\w\\-])url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|([^)\s'"\\]+))\s*\)"""
    r"""|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?""",
    re.IGNORECASE | re.DOTALL,
)


def css_url_spans(value: str) -> list[tuple[int, int]]:
    """The spans of the URLs of the ``url(…)`` of a decoded ``style`` value."""
    return [m.span(g) for m in _CSS.finditer(value) for g in (1, 2, 3) if m.group(g) is not None]


Token = tuple  # (kind, *data)


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tokens: list[Token] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self.tokens.append(("start", tag, tuple(attrs)))

    def handle_startendtag(self, tag, attrs):  # noqa: ANN001
        self.tokens.append(("startend", tag, tuple(attrs)))

    def handle_endtag(self, tag):  # noqa: ANN001
        self.tokens.append(("end", tag))

    def handle_data(self, data):  # noqa: ANN001
        # the tokenizer may split a text run anywhere; merge adjacent runs so splits never matter
        if self.tokens and self.tokens[-1][0] == "data":
            self.tokens[-1] = ("data", self.tokens[-1][1] + data)
        else:
            self.tokens.append(("data", data))

    def handle_entityref(self, name):  # noqa: ANN001
        self.tokens.append(("entityref", name))

    def handle_charref(self, name):  # noqa: ANN001
        self.tokens.append(("charref", name))

    def handle_comment(self, data):  # noqa: ANN001
        self.tokens.append(("comment", data))

    def handle_decl(self, decl):  # noqa: ANN001
        self.tokens.append(("decl", decl))

    def handle_pi(self, data):  # noqa: ANN001
        self.tokens.append(("pi", data))

    def unknown_decl(self, data):  # noqa: ANN001
        self.tokens.append(("unknown_decl", data))


def tokenize(document: str) -> list[Token]:
    parser = _Tokenizer()
    parser.feed(document)
    parser.close()
    return parser.tokens


@dataclass
class Verdict:
    """What the oracle found: ``problems`` is empty when the oracle holds."""

    problems: list[str] = field(default_factory=list)
    replaced: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, original, new) per URL
    kept: list[tuple[str, str]] = field(default_factory=list)  # (tag, original) URLs left alone

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        return "\n".join(self.problems[:20]) or "ok"


class Oracle:
    """Decides, for one page, what each image URL must become; compares two renders."""

    def __init__(self, page: str, cloud: Mapping[str, str]) -> None:
        self.page = page
        self.cloud = cloud

    def target(self, url: str, tag: str):  # noqa: ANN201
        """The Target of a local, existing file ``url`` in ``tag`` of a published kind."""
        target = resolve(url, self.page)
        if target is None or target.path not in self.cloud or not ASSETS.publishes(target.path, tag):
            return None
        return target

    def expected(self, url: str, tag: str) -> str | None:
        """The URL that ``url`` must become, or None when it must stay as it is."""
        target = self.target(url, tag)
        return None if target is None else with_suffix(self.cloud[target.path], target.suffix)

    def replace(self, url: str, tag: str, raw: bool = False) -> str | None:
        """A ``replace``/``decide`` callback that does what the oracle expects."""
        return self.expected(url, tag)

    # -- comparison -------------------------------------------------------------------------------

    def compare(self, original: str, rewritten: str) -> Verdict:
        verdict = Verdict()
        before, after = tokenize(original), tokenize(rewritten)
        if len(before) != len(after):
            verdict.problems.append(f"{len(before)} tokens before, {len(after)} after")
        for index, (a, b) in enumerate(zip(before, after)):
            if a[0] != b[0] or (a[0] not in ("start", "startend") and a != b):
                verdict.problems.append(f"token {index}: {a!r} became {b!r}")
                break  # the streams are out of step: further differences say nothing new
            if a[0] in ("start", "startend"):
                self._compare_tag(index, a, b, verdict)
        return verdict

    def _compare_tag(self, index: int, a: Token, b: Token, verdict: Verdict) -> None:
        _, tag, attrs_a = a
        _, tag_b, attrs_b = b
        if tag != tag_b or [n for n, _ in attrs_a] != [n for n, _ in attrs_b]:
            verdict.problems.append(f"token {index}: tag {a!r} became {b!r}")
            return
        wanted = (*URL_ATTRIBUTES.get(tag, ()), "style")
        for (name, value_a), (_, value_b) in zip(attrs_a, attrs_b):
            if name in wanted and value_a is not None and value_b is not None:
                if name in ("srcset", "style"):
                    self._compare_list(tag, name, value_a, value_b, verdict)
                else:
                    self._compare_url(tag, value_a, value_b, verdict)
            elif value_a != value_b:
                verdict.problems.append(f"<{tag} {name}>: {value_a!r} became {value_b!r}")

    def _compare_url(self, tag: str, before: str, after: str, verdict: Verdict) -> None:
        expected = self.expected(before, tag)
        if expected is None:
            if after != before:
                verdict.problems.append(f"<{tag}> {before!r} must stay, became {after!r}")
            else:
                verdict.kept.append((tag, before))
        elif after != expected:
            verdict.problems.append(f"<{tag}> {before!r} must become {expected!r}, became {after!r}")
        else:
            verdict.replaced.append((tag, before, after))

    def _compare_list(self, tag: str, name: str, before: str, after: str, verdict: Verdict) -> None:
        """A srcset (URLs and descriptors) or a style (``url(…)`` among declarations), decoded."""
        spans = srcset_spans if name == "srcset" else css_url_spans
        spans_a, spans_b = spans(before), spans(after)
        if len(spans_a) != len(spans_b):
            verdict.problems.append(f"<{tag} {name}> {before!r} became {after!r} (entries differ)")
            return
        gaps_a = _gaps(before, spans_a)
        gaps_b = _gaps(after, spans_b)
        if gaps_a != gaps_b:
            verdict.problems.append(f"<{tag} {name}> {before!r} became {after!r} (the rest differs)")
            return
        for (s, e), (s2, e2) in zip(spans_a, spans_b):
            self._compare_url({"style": "style", "srcset": "img"}[name], before[s:e], after[s2:e2], verdict)


def _gaps(value: str, spans: list[tuple[int, int]]) -> list[str]:
    out, last = [], 0
    for start, end in spans:
        out.append(value[last:start])
        last = end
    out.append(value[last:])
    return out


# -- the rewrite path: where the source may change ---------------------------------------------------


def source_edits(
    original: str, rewritten: str, decide: Callable[[str], str | None], urls: Iterable[str]
) -> list[tuple[int, int, str]] | str:
    """Explain ``rewritten`` as ``original`` with some written URLs replaced.

    The allowed edits are the places where one of ``urls`` is written in ``original`` (Markdown
    escapes and ``&amp;`` allowed, see :func:`urls.source_pattern`), each replaced by
    ``decide(url)`` or its HTML-escaped form. Returns the list of edits ``(start, end, new)`` or, when
    the rewritten text cannot be explained that way, a message naming the first unexplained place.
    """
    allowed: dict[int, list[tuple[int, str]]] = {}
    for url in set(urls):
        new = decide(url)
        if new is None:
            continue
        for match in source_pattern(url).finditer(original):
            allowed.setdefault(match.start(), []).append((match.end(), new))
    edits: list[tuple[int, int, str]] = []
    i = j = 0
    while i < len(original) or j < len(rewritten):
        step = None
        for end, new in sorted(allowed.get(i, ()), reverse=True):
            for form in dict.fromkeys((new, html.escape(new), html.escape(new, quote=False))):
                if form != original[i:end] and rewritten.startswith(form, j):
                    step = (end, form)
                    break
            if step:
                break
        if step:
            edits.append((i, step[0], step[1]))
            i, j = step[0], j + len(step[1])
        elif i < len(original) and j < len(rewritten) and original[i] == rewritten[j]:
            i, j = i + 1, j + 1
        else:
            line = original.count("\n", 0, i) + 1
            return (
                f"line {line}: unexplained change at {original[max(0, i - 30) : i + 30]!r} "
                f"-> {rewritten[max(0, j - 30) : j + 30]!r}"
            )
    return edits


# -- corpus helpers --------------------------------------------------------------------------------


def load_extensions(path: Path) -> tuple[list[str], dict[str, dict]]:
    """``markdown_extensions`` as in mkdocs.yml → (names, configs) for ``markdown.Markdown``."""
    names, configs = [], {}
    for item in yaml.safe_load(path.read_text(encoding="utf-8")):
        if isinstance(item, dict):
            ((name, options),) = item.items()
            names.append(name)
            if options:
                configs[name] = options
        else:
            names.append(item)
    return names, configs
