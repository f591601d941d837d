// MathJax's settings for pymdownx.arithmatex (generic mode): typeset only what it marked.
// Loaded before MathJax itself (mkdocs.yml: extra_javascript), which reads window.MathJax.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
