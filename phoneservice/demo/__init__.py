"""The simulated PBX of ``phoneservice demo``: recorded AMI sessions served on loopback."""
