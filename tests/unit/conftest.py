"""Unit tier: no sockets at all."""

from collections.abc import Iterator

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    pytest_socket.disable_socket()
    yield
    pytest_socket.enable_socket()
