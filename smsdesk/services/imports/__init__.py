"""Bulk import: from a messy spreadsheet export to a verified, personalised send.

Modules: ``readers`` (bytes -> rows of text), ``mapping`` (which column is what),
``numbers`` (phone cells, Excel repairs, the fast parse path), ``validate`` (one verdict per
row), ``wizard`` (the UI-free step machine the QWizard and the CLI drive) and ``run``
(persisted bulk runs over the outbox: pause, resume, cancel, report).

Qt-free; imports domain and storage only (no httpx, no Qt).
"""
