"""The Reports page (:mod:`.view`), its parts (:mod:`.parts`) and one send in detail (:mod:`.send_dialog`)."""
