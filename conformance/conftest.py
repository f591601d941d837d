import os

import mivb


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", default=[],
                     help="backend to check (repeatable); default: every backend installed here")
    parser.addoption("--device", default=None,
                     help="the device of the run, such as cuda: estimate's default (MIVB_DEVICE) and, with "
                          "torch, torch's default device (JAX and TensorFlow put arrays on a GPU when they see one)")


def pytest_configure(config):
    device = config.getoption("device")
    if device is not None:
        os.environ["MIVB_DEVICE"] = device
        if "torch" in (config.getoption("backend") or mivb.available_backends()):
            import torch

            torch.set_default_device(device)


def pytest_generate_tests(metafunc):
    if "check" not in metafunc.fixturenames:
        return
    from conformance.checks import checks_for

    backends = metafunc.config.getoption("backend") or mivb.available_backends()
    pairs = [(backend, check) for backend in backends for check in checks_for(backend)]
    metafunc.parametrize(("backend", "check"), pairs, ids=[f"{b}-{c.id}" for b, c in pairs])
