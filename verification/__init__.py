"""LiveGate domain: verification cases, checks, identities, tokens, limits and ledger.

Nothing in this package imports Flask; HTTP lives in ``gateway``.
"""
