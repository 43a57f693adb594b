"""Tests of product modules against stand-in servers and sockets on 127.0.0.1 (no OpenStack):
slower than the pure unit tests, so kept out of tests/unit."""
