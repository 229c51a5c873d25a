"""Where the repository and the built tessel program are, for the Python suites."""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("TESSEL_BINARY_DIR", ROOT / "build"))


@pytest.fixture
def root():
    return ROOT


@pytest.fixture
def tessel_program():
    return BUILD / "tessel"
