"""Build the API reference and the guide into one static site (``make docs``).

pdoc documents a module's ``__all__``; ``impact`` itself loads its names lazily, so pdoc is given
every public layer package explicitly (the list is :data:`impact.PACKAGES`, the same the layer
test walks), and the guide pages in ``docs/*.md`` are rendered beside them and linked from the
index. Nothing is downloaded: pdoc renders Markdown with its bundled ``markdown2``.

Usage: ``python docs/build.py [output-folder]`` (default ``docs/_build``).
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

import pdoc
import pdoc.render
from pdoc.render_helpers import to_html

import impact

HERE = Path(__file__).resolve().parent

#: guide pages, in reading order: file stem -> title
GUIDE = {
    "guide": "User guide",
    "registers": "Register extracts and the dynamic design",
    "matching": "Matching",
    "survival": "Survival models",
    "effects": "Effects by gender",
    "aiptw": "Doubly robust estimates (AIPTW)",
    "monitoring": "Goals and monthly monitoring",
    "privacy": "Disclosure control",
}


def modules() -> list[str]:
    """Every public module of the reference: the top package and each layer package."""
    return ["impact", *(f"impact.{p}" for p in impact.PACKAGES)]


def _page(title: str, body: str) -> str:
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
            "line-height:1.5}pre{background:#f4f4f4;padding:.6rem;overflow-x:auto}code{font-size:.92em}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}</style>"
            f"</head><body><p><a href='../index.html'>impact documentation</a></p>{body}</body></html>")


def build(out: Path, only: list[str] | None = None) -> list[Path]:
    """Write the reference (every module, or ``only`` these) and the guide under ``out``; return
    the files written."""
    out.mkdir(parents=True, exist_ok=True)
    pdoc.render.configure(docformat="numpy", footer_text=f"impact {impact.__version__}")
    pdoc.pdoc(*(only or modules()), output_directory=out)
    written = sorted(out.rglob("*.html"))
    guide = out / "guide"
    guide.mkdir(exist_ok=True)
    for stem, title in GUIDE.items():
        source = (HERE / f"{stem}.md").read_text(encoding="utf-8")
        target = guide / f"{stem}.html"
        target.write_text(_page(title, to_html(source)), encoding="utf-8")
        written.append(target)
    links = "".join(f"<li><a href='guide/{s}.html'>{html.escape(t)}</a></li>" for s, t in GUIDE.items())
    refs = "".join(f"<li><a href='{m.replace('.', '/')}.html'><code>{m}</code></a></li>" for m in only or modules())
    index = out / "index.html"
    index.write_text(_page("impact documentation", "<h1>impact documentation</h1>"
                           f"<h2>Guide</h2><ul>{links}</ul><h2>API reference</h2><ul>{refs}</ul>")
                     .replace("<a href='../index.html'>impact documentation</a>", "impact"), encoding="utf-8")
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "_build"
    files = build(folder)
    print(f"API reference and guide written to {folder / 'index.html'} ({len(files)} pages)")
