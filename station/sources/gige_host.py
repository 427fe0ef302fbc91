"""What a GigE Vision stream needs of the host: a UDP receive buffer that holds a frame.

A camera sends a whole frame in one burst of UDP packets. The kernel queues them
in the socket's receive buffer until the stream thread reads them; a buffer
smaller than the burst drops the rest of the frame (`RcvbufErrors` in
/proc/net/snmp) and the frame arrives with missing packets. The kernel silently
caps any request at `net.core.rmem_max`.
"""

from __future__ import annotations

from pathlib import Path

MIN_SOCKET_BUFFER_BYTES = 1 << 20
"""1 MiB: room for a small frame's burst plus the next one arriving meanwhile."""
RMEM_MAX = Path("/proc/sys/net/core/rmem_max")


def stream_buffer_bytes(payload_bytes: int, override: int | None = None) -> int:
    """The receive buffer to ask for: `override`, else max(2 x payload, 1 MiB)."""
    if override is not None:
        return override
    return max(2 * payload_bytes, MIN_SOCKET_BUFFER_BYTES)


def rmem_max(path: Path = RMEM_MAX) -> int | None:
    """The kernel's cap on a socket's receive buffer (bytes); None where it cannot be read."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def socket_buffer_note(camera: str, wanted: int, cap: int | None = None) -> str | None:
    """The operator's warning when `wanted` is above the kernel's cap, else None."""
    cap = rmem_max() if cap is None else cap
    if cap is None or wanted <= cap:
        return None
    return (
        f"GigE camera {camera}: the stream's socket buffer is capped at net.core.rmem_max = "
        f"{cap} bytes (asked for {wanted}); frames may lose packets. Raise it with "
        f"`sysctl -w net.core.rmem_max={wanted}` (see docs/cameras.md)"
    )
