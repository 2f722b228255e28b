"""The live show: a host's processed stream broadcast to many viewers (``docs/show.md``)."""
