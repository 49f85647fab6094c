"""The Bulk page: from a spreadsheet to a checked, personalised send, one wizard page per step.

Owns how :class:`~smsdesk.services.bulk_send_flow.BulkSendFlow` (the Qt-free step machine) is
shown: ``view`` (the page), ``wizard`` (the QWizard, its worker thread and progress), one
module per wizard page, and ``common`` (what pages share, and :class:`~.common.WizardHost`,
all a page may use of the wizard). A page imports ``common``, never another page or the
wizard. Like the rest of the UI it calls services only (no storage, no runtime), and never
opens a nested event loop: file choosers use ``open()`` and signals.
"""
