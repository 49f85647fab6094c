"""The Contacts page: the address book's list, a contact's pane, groups and the contact form."""
