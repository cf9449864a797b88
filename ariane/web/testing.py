"""Run the real app on loopback for tests and benchmarks (a free port, in this process)."""

from __future__ import annotations

import socket
import time


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def launch_local(demo, host: str = "127.0.0.1", port: int | None = None) -> str:
    """Start `demo` in background threads; returns its URL. Stop it with `demo.close()`."""
    port = port or free_port(host)
    from ariane.web.strings import i18n

    demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, show_error=True, i18n=i18n())
    return f"http://{host}:{port}/"


def wait_until_listening(proc, port: int, log, timeout: float, host: str = "127.0.0.1") -> None:
    """Wait for a `python app.py` subprocess to accept connections on `port`.

    Raises:
        AssertionError: it exited, or did not listen within `timeout` seconds; the message ends
            with the tail of its `log` file.
    """
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"app.py exited ({proc.returncode}):\n{log.read_text()[-3000:]}"
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"app.py did not listen within {timeout} s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)


def stop(proc, timeout: float = 30) -> None:
    """Terminate a `python app.py` subprocess; kill it if it has not exited after `timeout` seconds."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
