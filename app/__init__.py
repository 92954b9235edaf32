"""The PKT wallet application: headless services, the CLI, and (in app.gui) the desktop window."""

__version__ = "0.1.0"
