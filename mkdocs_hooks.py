"""MkDocs hooks of the docs site (mkdocs.yml: ``hooks``).

The formulas are typeset by MathJax in the reader's browser. Its script comes with the site, not
from a CDN, so they render offline and behind firewalls: the hook adds MathJax's single-file SVG
build (every TeX extension, fonts as SVG paths: no other file is fetched) from the
``django-static-mathjax`` package, a copy of MathJax that depends on nothing (not on Django).
"""

from __future__ import annotations

import importlib.resources
from typing import Any

from mkdocs.structure.files import File, Files

MATHJAX = "javascripts/mathjax/tex-svg-full.js"  # the site path mkdocs.yml's extra_javascript names


def on_files(files: Files, config: Any) -> Files:
    source = importlib.resources.files("mathjax") / "static" / "mathjax" / "es5" / "tex-svg-full.js"
    if not source.is_file():
        raise FileNotFoundError(f"{source}: MathJax's script is missing; pip install django-static-mathjax "
                                "-c constraints/ci.txt (nox -s docs installs it)")
    files.append(File.generated(config, MATHJAX, abs_src_path=str(source)))
    return files
