"""The web console under ``/console``: server-rendered pages for WCO staff, auditors and NCPs."""
