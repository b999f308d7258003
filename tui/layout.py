"""Layout thresholds shared by the screens."""

#: Below this many columns the screens stack their panes instead of placing them side by side.
NARROW = 140
