"""smsdesk: a desktop SMS console for small businesses.

The version lives here and only here; packaging and the About dialog read it.
"""

__version__ = "0.1.0"
APP_NAME = "smsdesk"
