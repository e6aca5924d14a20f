"""The lab's private Tor network: torrc rendering, keys, two-phase start, status.

Depends on stem and Debian's ``tor``/``tor-gencert`` binaries; everything binds to
127.0.0.1 and nothing ever contacts the public Tor network.
"""
