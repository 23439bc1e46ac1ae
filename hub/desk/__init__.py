"""The officer desk: a local web app (``pgs desk``) to read, answer and send messages.

It runs on the officer's own machine, bound to 127.0.0.1; the private keys are unlocked there and
kept in memory only. It is a *client* of the hub: everything it asks the hub goes through
:mod:`hub.desk.hubapi` (the Python client), and it decrypts and encrypts locally, so the hub never
sees plaintext.
"""
