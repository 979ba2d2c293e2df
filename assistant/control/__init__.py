"""The running daemon's control surface: the control socket (protocol, server, client), the
commands it answers, and the loopback HTTP endpoint (/metrics, /health)."""
