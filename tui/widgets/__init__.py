"""The monitor's widgets: each owns its bindings, styles and messages."""
