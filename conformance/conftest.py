import mivb


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", default=[],
                     help="backend to check (repeatable); default: every backend installed here")


def pytest_generate_tests(metafunc):
    if "check" not in metafunc.fixturenames:
        return
    from conformance.checks import checks_for

    backends = metafunc.config.getoption("backend") or mivb.available_backends()
    pairs = [(backend, check) for backend in backends for check in checks_for(backend)]
    metafunc.parametrize(("backend", "check"), pairs, ids=[f"{b}-{c.id}" for b, c in pairs])
