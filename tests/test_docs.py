"""`make docs`: the API reference covers every public layer package and result class, the guide
pages are linked in, and every public name has a docstring to render."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest

import impact

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))
build = importlib.import_module("build")


def test_the_reference_lists_every_layer_package():
    assert build.modules() == ["impact", *(f"impact.{p}" for p in impact.PACKAGES)]


def test_every_guide_page_is_in_the_site():
    pages = {p.stem for p in DOCS.glob("*.md")}
    assert pages == set(build.GUIDE), pages ^ set(build.GUIDE)


@pytest.mark.parametrize("package", impact.PACKAGES)
def test_every_public_name_has_a_docstring(package):
    mod = importlib.import_module(f"impact.{package}")
    assert (mod.__doc__ or "").strip(), f"impact.{package} has no module docstring"
    missing = []
    for name in getattr(mod, "__all__", ()):
        obj = getattr(mod, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not (obj.__doc__ or "").strip():
            missing.append(name)
    assert not missing, f"impact.{package}: no docstring for {missing}"


def test_a_build_renders_the_result_classes_and_links_the_guide(tmp_path):
    files = build.build(tmp_path, only=["impact.design", "impact.effects"])
    design = (tmp_path / "impact" / "design.html").read_text(encoding="utf-8")
    effects = (tmp_path / "impact" / "effects.html").read_text(encoding="utf-8")
    assert 'id="MatchResult"' in design and 'id="match_riskset"' in design
    assert 'id="EffectsResult"' in effects and 'id="estimate_effects"' in effects
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for stem in build.GUIDE:
        assert f"guide/{stem}.html" in index
        assert (tmp_path / "guide" / f"{stem}.html") in files
    guide = (tmp_path / "guide" / "guide.html").read_text(encoding="utf-8")
    assert "<h1" in guide and "<pre" in guide          # Markdown was rendered, code blocks too
