import pytest

from .receiver import Receiver, start


@pytest.fixture
def receiver():
    box = Receiver()
    server, thread = start(box)
    yield box
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
