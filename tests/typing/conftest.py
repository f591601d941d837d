# These files are for mypy (nox -s typing), not pytest: --doctest-modules would import them, and
# adapters.py imports all three frameworks, which no single test session installs.
collect_ignore = ["user_script.py", "adapters.py"]
