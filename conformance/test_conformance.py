def test_conformance(backend, check):
    check.run(backend)
