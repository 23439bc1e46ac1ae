"""The hub's rules: every web layer (API, console, stream, desk) and the command line call these;
they ask the one policy function (hub.services.access) and use the storage layer."""
