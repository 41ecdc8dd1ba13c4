"""``loyalty serve --workers N`` on Linux: every worker process gets a listening socket and a
CPU scheduling group of its own.

- **Its own socket** (SO_REUSEPORT). On one socket shared by all workers, whichever worker
  wakes first accepts every pending connection: a burst of tills, or a load balancer's pool,
  lands on one worker while another idles (25 and 7 of the sales benchmark's 32 connections),
  and the busy one sets the tail latency. With a socket each on the same port, Linux spreads
  new connections over them by address hash.
- **Its own session** (setsid). Linux's autogroup scheduling, on by default in many kernels,
  shares CPU fairly between sessions before processes. PostgreSQL starts each backend in a
  session of its own, so on a host that also runs the database all the workers, sharing the
  shell's session, got together the CPU share of one backend. Where processes sit in a cgroup
  with its own CPU controller (containers, most systemd services) autogroup does not apply and
  this changes nothing. The supervisor keeps the terminal: Ctrl-C reaches it, and it stops
  the workers. Should the supervisor be killed outright, the kernel stops them (SIGTERM, by
  ``prctl(PR_SET_PDEATHSIG)``), since a signal to its process group no longer reaches them.

uvicorn's supervisor pickles the list of sockets into every worker it starts or restarts (it
spawns them); ``Listener`` stands in that list and unpickles there by running ``_start_worker``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys

from uvicorn.config import STARTUP_FAILURE

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Elsewhere (macOS, BSD) several such sockets can be bound, but one of them gets every connection.
SUPPORTED = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int, *, reuse_port: bool = True) -> socket.socket:
    """A socket bound to (host, port), by default in the port's SO_REUSEPORT group; not yet
    listening. Without ``reuse_port`` this fails if anything listens there already."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class Listener:
    """The workers' listening socket, as passed to uvicorn's supervisor."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[object, tuple[str, int, int]]:
        return _start_worker, (self.host, self.port, os.getpid())  # pickled by the supervisor


def _start_worker(host: str, port: int, supervisor: int) -> socket.socket:
    _end_with(supervisor)
    os.setsid()
    try:
        return bind(host, port)
    except OSError as exc:
        # With this status the supervisor stops, rather than restarting the worker forever.
        sys.stderr.write(f"cannot listen on {host}:{port}: {exc.strerror}\n")
        sys.exit(STARTUP_FAILURE)


def _end_with(supervisor: int) -> None:
    """Have the kernel stop this worker when its supervisor dies, even by SIGKILL: out of the
    supervisor's session and process group, nothing else would, and it would keep serving."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    if os.getppid() != supervisor:  # it died before that took effect
        sys.exit(STARTUP_FAILURE)
