"""The window's pages, dialogs and the panes they are made of: one view class per file.

A page's factory is registered in ``ui/pages.py``. Views import services, models, delegates
and widgets, and one view may compose another; helpers two views share live in ``ui/widgets``.
"""
