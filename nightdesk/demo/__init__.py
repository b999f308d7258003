"""The built-in demo: a simulated counting night shaped like Cambodia's 2013 election.

``definition`` holds the election's public facts, ``night`` turns them into a deterministic
simulated night (pure, no I/O), and ``server`` serves that night over local HTTP so the monitor
can poll it like any real feed. The votes per province are simulated and labelled so.
"""
