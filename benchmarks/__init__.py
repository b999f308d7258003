"""Speed measurements (not tests): `make bench` prints numbers."""
