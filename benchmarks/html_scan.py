"""Finding the asset references of built pages (issue #20) and of stylesheets (issue #23).

Target: at least 20 MB of HTML per second of CPU time on one core, on real MkDocs Material pages with
highlighted code (the real-shaped site of ``_common``, built with ``material`` when it is installed),
for :func:`mkdocs_wxcloud.references.htmlpage.scan_html` (decoding included). For comparison, the
standard library's ``html.parser`` reading the same pages the way the raw-HTML path used to (every
start tag through ``HTMLParser``, no work per tag). Also: the CSS ``url()`` scanner on stylesheets
of escaped quotes growing 10x must take about 10x longer (it took 16 s on 1.6 MB when it was
quadratic), and the number of references found on each page is printed for a look.

    python benchmarks/html_scan.py [--pages 30] [--runs 5]
"""

from __future__ import annotations

import argparse
import time
from html.parser import HTMLParser

import _common as common

TARGET_MB_S = 20.0
MAX_GROWTH = 20.0  # 10x the stylesheet: linear is ~10x, quadratic ~100x


class _OldStartTags(HTMLParser):
    """The former raw-HTML path: the standard tokenizer over the whole text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.count = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[override]
        if tag in ("img", "source", "a", "video", "audio", "track", "object", "embed"):
            self.count += 1


def _best(runs: int, work) -> float:  # noqa: ANN001
    """The least CPU time of ``runs`` runs of ``work`` (CPU time: the machine may be shared)."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="timed runs (the best counts)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site folder")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 50))

    info = common.machine()
    common.print_machine(info)
    from mkdocs_wxcloud.references import css
    from mkdocs_wxcloud.references.charset import decode_html
    from mkdocs_wxcloud.references.htmlpage import scan_html

    targets = common.Targets()
    figures: dict[str, object] = {}
    with common.scratch("html-scan", args.keep) as tmp:
        common.quiet_logging()
        site = common.generate_real_site(tmp / "site", pages=max(1, min(args.pages, 500)), images=4 * args.pages)
        common.build(site.plain)
        pages = sorted(p for p in (tmp / "site" / "site").rglob("*.html") if p.name != "404.html")
        data = [p.read_bytes() for p in pages]
    size = sum(len(d) for d in data) / 1e6
    found = [len(scan_html(decode_html(d, "page").text).references) for d in data]
    print(f"Pages: {len(data)} built with theme {site.theme}, {size:.1f} MB, {sum(found)} references "
          f"({min(found)}-{max(found)} a page)")  # fmt: skip

    def new() -> None:
        for d in data:
            scan_html(decode_html(d, "page").text)

    def old() -> None:
        for d in data:
            tokenizer = _OldStartTags()
            tokenizer.feed(d.decode("utf-8"))
            tokenizer.close()

    new_s, old_s = _best(runs, new), _best(max(1, runs // 2), old)
    figures.update(mb=size, scan_html_mb_s=size / new_s, html_parser_mb_s=size / old_s)
    print()
    print(common.table(["reader", "MB/s"], [["htmlpage.scan_html", f"{size / new_s:.1f}"],
                                            ["html.parser (former path)", f"{size / old_s:.1f}"]]))  # fmt: skip
    targets.check("scan_html on Material pages", size / new_s >= TARGET_MB_S, f">= {TARGET_MB_S:.0f} MB/s",
                  f"{size / new_s:.1f} MB/s")  # fmt: skip

    small = '.a{content:"' + '\\"' * 80_000 + '"}.b{background:url(b.png)}'
    large = '.a{content:"' + '\\"' * 800_000 + '"}.b{background:url(b.png)}'
    small_s = _best(runs, lambda: css.url_spans(small))
    large_s = _best(runs, lambda: css.url_spans(large))
    figures.update(css_small_s=small_s, css_large_s=large_s)
    print()
    print(common.table(["stylesheet of escaped quotes", "time"], [[f"{len(small) / 1e6:.2f} MB", common.ms(small_s)],
                                                                  [f"{len(large) / 1e6:.2f} MB", common.ms(large_s)]]))  # fmt: skip
    targets.check("CSS scan, 10x the input", large_s / small_s <= MAX_GROWTH, f"<= {MAX_GROWTH:.0f}x the time",
                  f"{large_s / small_s:.1f}x")  # fmt: skip
    return common.finish("html_scan", info, {"pages": len(data), "runs": runs}, figures, targets)


if __name__ == "__main__":
    raise SystemExit(main())
